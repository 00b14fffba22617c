#!/usr/bin/env bash
# Builds the installable Scalpel with the JDK's jlink and jpackage: a Linux app-image and a .deb, in packaging/out/.
#
#   ./mvnw -Ppackage package                 runs this after app's package phase (CPU natives)
#   ./mvnw -Ppackage,cuda package            the same with libtorch's CUDA natives: package scalpel-cuda
#   packaging/build.sh [--lib DIR] [--jar JAR] [--out DIR] [--types "app-image deb"]
#                                            by hand, after ./mvnw package (default --lib app/target/lib)
#
# Environment: JAVA_HOME (the JDK whose jlink/jpackage/jdeps and jmods are used; default: the one `javac` is from),
# DPKG_DEB_COMPRESSOR_TYPE (dpkg-deb reads it: xz by default, gzip builds faster and larger),
# SCALPEL_PACKAGE_RELEASE (the Debian revision, default 1).
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true                  # bash 5.2: '&' in ${x//a/b} stays literal

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
here="$root/packaging"
lib="$root/app/target/lib"
jar=""
out="$here/out"
types="app-image deb"
while [ $# -gt 0 ]; do
  case "$1" in
    --lib) lib="$2"; shift 2 ;;
    --jar) jar="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --types) types="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

say() { echo "[packaging] $*" >&2; }
die() { echo "[packaging] error: $*" >&2; exit 1; }

# --- tools ------------------------------------------------------------------------------------------------------------
if [ -z "${JAVA_HOME:-}" ]; then
  JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"
fi
for t in jlink jpackage jdeps; do
  [ -x "$JAVA_HOME/bin/$t" ] || die "$JAVA_HOME/bin/$t is missing: set JAVA_HOME to a full JDK 17+"
done
[ -d "$JAVA_HOME/jmods" ] || die "$JAVA_HOME/jmods is missing (jlink needs the JDK's jmods; on Debian: openjdk-17-jdk-headless has them)"
case " $types " in *" deb "*) for t in dpkg-deb fakeroot dpkg; do command -v $t >/dev/null || die "$t is needed for the .deb"; done ;; esac

# --- what to package ----------------------------------------------------------------------------------------------------
if [ -z "$jar" ]; then
  jar="$(ls "$root"/app/target/scalpel-app-*.jar 2>/dev/null | grep -v -- '-tests\.jar$' | head -1 || true)"
fi
[ -n "$jar" ] && [ -f "$jar" ] || die "no app jar in app/target: run ./mvnw package first (or ./mvnw -Ppackage package)"
[ -d "$lib" ] || die "$lib is missing: run ./mvnw package first"
version_full="$(basename "$jar" .jar)"; version_full="${version_full#scalpel-app-}"
version="${version_full%-SNAPSHOT}"                  # jpackage wants digits and dots
release="${SCALPEL_PACKAGE_RELEASE:-1}"
model="$root/sample-models/polyglot-tiny"
[ -f "$model/model.safetensors" ] || die "the sample model $model is missing"

if ls "$lib"/pytorch-*-gpu.jar >/dev/null 2>&1; then
  variant=cuda; package=scalpel-cuda; other=scalpel
  variant_text="libtorch with CUDA: NVIDIA driver needed for --device cuda"
  ls "$lib"/pytorch-*-linux-x86_64.jar >/dev/null 2>&1 && die "$lib holds both CPU and GPU libtorch natives (a stale copy): ./mvnw clean first"
else
  variant=cpu; package=scalpel; other=scalpel-cuda
  variant_text="CPU: libtorch, MKL and OpenBLAS"
fi
install_dir="/opt/$package"
say "Scalpel $version_full ($variant) from $jar + $(ls "$lib"/*.jar | wc -l) jars in $lib"

work="$out/work"
rm -rf "$work" "$out/scalpel" "$out/${package}_"*.deb
mkdir -p "$work/input/sample-models" "$work/resources"

# --- input: the classpath and the files ScalpelHome looks for under -Dscalpel.home=$APPDIR ---------------------------
cp "$jar" "$work/input/"
cp "$lib"/*.jar "$work/input/"
cp -r "$model" "$work/input/sample-models/"
cp "$root/sample-models/README.md" "$work/input/sample-models/" 2>/dev/null || true
if [ -f "$root/docs/demo-sample/results.csv" ]; then            # the Trade-off tab's sample run
  mkdir -p "$work/input/docs/demo-sample" && cp "$root/docs/demo-sample/results.csv" "$work/input/docs/demo-sample/"
fi

# --- runtime: jlink the modules the jars use ------------------------------------------------------------------------
# jdeps over the jars as one unnamed classpath (module-info and multi-release copies left out, so modular jars such as
# JavaFX's do not make jdeps resolve their module graph), plus what is reached only by reflection or at run time:
# java.desktop/jdk.unsupported.desktop (JavaFX on the classpath, AWT for the PNG charts), jdk.unsupported (JavaCPP's
# Unsafe), java.logging, java.management (DJL), jdk.jfr (JavaFX's logging hooks).
say "jdeps ..."
mkdir -p "$work/classes"
for j in "$work"/input/*.jar; do
  (cd "$work/classes" && unzip -qo "$j" '*.class' -x 'module-info.class' 'META-INF/versions/*' 2>/dev/null || true)
done
found="$("$JAVA_HOME/bin/jdeps" --ignore-missing-deps --print-module-deps -q --multi-release 17 "$work/classes")"
rm -rf "$work/classes"
modules="$(echo "$found,java.desktop,jdk.unsupported,jdk.unsupported.desktop,java.logging,java.management,jdk.jfr" \
  | tr ',' '\n' | sed '/^$/d' | sort -u | paste -sd, -)"
say "jlink --add-modules $modules"
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --generate-cds-archive \
  --output "$work/runtime"
echo "$modules" > "$work/modules.txt"

# --- jpackage resources: desktop entry, icon, control file, maintainer scripts ---------------------------------------
icon="$root/icons/src/main/resources/dev/scalpel/icons/scalpel.png"
cp "$icon" "$work/resources/scalpel.png"
description="Head-level surgery on transformer language models: workbench and CLI"
java_options=(
  --java-options '-Dscalpel.home=$APPDIR'                      # sample-models/ and docs/ ship in lib/app
  --java-options '-Dscalpel.packaged=true'                     # Launcher: natives unpack under ~/.cache/scalpel
  --java-options '-Dorg.bytedeco.openblas.load=mkl_rt'         # the flags of ./scalpel
  --java-options '-Dorg.bytedeco.javacpp.maxPhysicalBytes=0'
)

say "jpackage app-image ..."
"$JAVA_HOME/bin/jpackage" --type app-image --dest "$out" \
  --name scalpel --app-version "$version" --vendor "Scalpel" --description "$description" \
  --input "$work/input" --main-jar "$(basename "$jar")" --main-class dev.scalpel.app.Launcher \
  --runtime-image "$work/runtime" --icon "$icon" "${java_options[@]}"
image="$out/scalpel"
"$image/bin/scalpel" --version >/dev/null || die "the app-image's launcher does not start"
say "app-image: $image ($(du -sh "$image" | cut -f1))"

case " $types " in *" deb "*) ;; *) exit 0 ;; esac

# --- Depends: the shared libraries the natives and the runtime link, as Debian packages ------------------------------
# The natives live inside the jars (JavaCPP, DJL and JavaFX unpack them at run time), so jpackage's own ldd scan sees
# only the runtime's; here every linux-x86_64 .so in the jars is unpacked and dpkg-shlibdeps (dpkg-dev) maps what they
# link to packages with versions. A library whose NEEDED entries cannot all be found (libcuda.so.1 comes with the
# NVIDIA driver; OpenBLAS's unused nolapack variant) is left out of the scan. Without dpkg-shlibdeps/objdump: the list below.
fallback_depends="libasound2, libatk1.0-0, libc6 (>= 2.35), libcairo-gobject2, libcairo2, libfontconfig1, libfreetype6, \
libgcc-s1, libgdk-pixbuf-2.0-0, libgif7, libgl1, libglib2.0-0, libgomp1, libgtk-3-0, libharfbuzz0b, libjpeg62-turbo, \
liblcms2-2, libpango-1.0-0, libpangocairo-1.0-0, libpangoft2-1.0-0, libpng16-16, libquadmath0, libstdc++6 (>= 12), \
libx11-6, libxext6, libxi6, libxrender1, libxtst6, libxxf86vm1, zlib1g"
depends=""
if command -v dpkg-shlibdeps >/dev/null && command -v objdump >/dev/null; then
  natives="$work/natives"
  mkdir -p "$natives"
  for j in "$work"/input/*.jar; do
    (cd "$natives" && unzip -qo "$j" '*linux-x86_64/*.so*' 'native/lib/linux-x86_64/*' 'com/sun/jna/linux-x86-64/*' \
      'lib*.so' 2>/dev/null || true)
  done
  mapfile -t elfs < <(find "$natives" "$work/runtime/lib" -type f \( -name '*.so' -o -name '*.so.*' \) | sort)
  mapfile -t dirs < <(printf '%s\n' "${elfs[@]}" | xargs -n1 dirname | sort -u)
  provided="$(printf '%s\n' "${elfs[@]}" | xargs -n1 basename | sort -u)"
  system="$(/sbin/ldconfig -p | awk 'NR > 1 && /x86-64/ {print $1}' | sort -u)"
  scan=()
  for f in "${elfs[@]}"; do
    ok=1
    for so in $(objdump -p "$f" 2>/dev/null | awk '/NEEDED/{print $2}'); do
      if ! grep -qxF "$so" <<<"$provided" && ! grep -qxF "$so" <<<"$system"; then
        say "  (not scanned: $(basename "$f") needs $so, which neither the package nor this system has)"
        ok=0; break
      fi
    done
    if [ $ok = 1 ]; then scan+=("-e$f"); fi
  done
  say "dpkg-shlibdeps over ${#scan[@]} libraries ..."
  mkdir -p "$work/shlibdeps/debian"
  printf 'Source: scalpel\n\nPackage: %s\nArchitecture: any\n' "$package" > "$work/shlibdeps/debian/control"
  depends="$(cd "$work/shlibdeps" && dpkg-shlibdeps -O --warnings=0 --ignore-missing-info \
    $(printf -- '-l%s ' "${dirs[@]}") "${scan[@]}" 2>"$work/shlibdeps.log" | sed -n 's/^shlibs:Depends=//p')" || true
  rm -rf "$natives"
fi
if [ -z "$depends" ]; then
  say "dpkg-shlibdeps unavailable or failed (see $work/shlibdeps.log): using the list measured on Debian 12"
  depends="$fallback_depends"
fi
# the libraries Debian 13 / Ubuntu 24.04 renamed for 64-bit time_t: either name satisfies the dependency
depends="$(echo "$depends" | tr ',' '\n' | sed 's/^ *//' | awk '
  { name = $1; rest = $0 }
  name ~ /t64$/ { base = substr(name, 1, length(name) - 3); print rest " | " base; next }
  name ~ /^(libasound2|libglib2\.0-0|libgtk-3-0|libatk1\.0-0|libatk-bridge2\.0-0|libpng16-16)$/ { print rest " | " name "t64"; next }
  { print rest }' | paste -sd, - | sed 's/,/, /g')"

if [ $variant = cuda ]; then
  relations="Provides: scalpel
Conflicts: scalpel
Replaces: scalpel"
else
  relations="Conflicts: scalpel-cuda
Replaces: scalpel-cuda"
fi
subst() {                                       # @TOKENS@ of packaging/resources; jpackage fills its own afterwards
  local text; text="$(cat "$1")"
  text="${text//@DEPENDS@/$depends}"; text="${text//@RELATIONS@/$relations}"
  text="${text//@INSTALL_DIR@/$install_dir}"; text="${text//@PACKAGE@/$package}"; text="${text//@VARIANT@/$variant_text}"
  text="${text//@WM_CLASS@/dev.scalpel.app.ui.Workbench}"
  printf '%s\n' "$text"
}
for f in control postinst prerm scalpel.desktop; do subst "$here/resources/$f" > "$work/resources/$f"; done
chmod 755 "$work/resources/postinst" "$work/resources/prerm"

say "jpackage deb (dpkg-deb compresses with ${DPKG_DEB_COMPRESSOR_TYPE:-xz}; minutes) ..."
"$JAVA_HOME/bin/jpackage" --type deb --dest "$out" --app-image "$image" \
  --name "$package" --app-version "$version" --vendor "Scalpel" --description "$description" \
  --linux-package-name "$package" --linux-app-release "$release" --linux-deb-maintainer "dev@scalpel.invalid" \
  --linux-app-category science --linux-menu-group "Science;Development;" --linux-shortcut \
  --copyright "Scalpel contributors" --icon "$icon" --resource-dir "$work/resources" --install-dir /opt
deb="$(ls "$out/${package}_"*.deb)"
say "deb: $deb ($(du -h "$deb" | cut -f1))"
dpkg-deb -f "$deb" Depends >&2
