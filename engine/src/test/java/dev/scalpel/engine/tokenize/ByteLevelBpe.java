package dev.scalpel.engine.tokenize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scalpel.engine.api.ScalpelException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A byte-level BPE encoder/decoder in plain Java that gives the same ids as the Hugging Face
 * {@code tokenizers} library (as used through DJL) for a GPT-2-style {@code tokenizer.json}: no
 * normalizer, {@code ByteLevel} pre-tokenizer without prefix space, BPE without dropout, no
 * post-processor ({@code addSpecialTokens} makes no difference).
 *
 * <p>Encoding: (1) split out added/special tokens — leftmost match, longest among those starting there —
 * (2) pre-tokenize the rest with {@link ByteLevelPreTokenizer}, (3) turn each piece's UTF-8 bytes into
 * byte symbols and apply merges exactly as HF's {@code Word::merge_all} does: a min-heap of
 * (rank, position), the lowest rank first, leftmost among equal ranks. A lone surrogate in a Java string
 * has no UTF-8 form, so no tokenizer can give it back; it is encoded as U+FFFD. (Through DJL's JNI it
 * arrives in HF as three invalid bytes and comes back as three U+FFFD, so ids differ there.)
 *
 * <p>Decoding mirrors HF's {@code ByteLevel} decoder: each token's symbols back to bytes (a token with a
 * character that is no byte symbol, e.g. a special token like {@code "<s>"} with non-byte chars,
 * contributes its own UTF-8), concatenated, then UTF-8 decoded with U+FFFD for invalid sequences.
 *
 * <p>Thread-safe; an internal cache of encoded words is shared between threads.
 */
public final class ByteLevelBpe {

    private static final int CACHE_LIMIT = 200_000;
    private static final int CACHE_MAX_WORD = 64;

    /** Token by id; null where the id is unused. */
    private final String[] tokens;
    private final Map<String, Integer> ids;
    private final boolean[] special;
    /** Added tokens, matched in the text before pre-tokenization. */
    private final String[] added;
    private final int[] addedIds;
    private final int[] byteIds = new int[ByteLevel.SIZE];
    private final PairMap ranks;
    private final int[] mergeResult;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private ByteLevelBpe(Map<String, Integer> vocab, List<String[]> merges, List<String> addedTokens,
                         List<Integer> addedTokenIds, List<Boolean> addedSpecial) {
        int maxId = -1;
        for (int id : vocab.values()) {
            maxId = Math.max(maxId, id);
        }
        for (int id : addedTokenIds) {
            maxId = Math.max(maxId, id);
        }
        tokens = new String[maxId + 1];
        special = new boolean[maxId + 1];
        ids = new HashMap<>(vocab);
        vocab.forEach((t, id) -> tokens[id] = t);
        added = addedTokens.toArray(new String[0]);
        addedIds = new int[added.length];
        for (int i = 0; i < added.length; i++) {
            int id = addedTokenIds.get(i);
            addedIds[i] = id;
            tokens[id] = added[i];
            ids.put(added[i], id);
            special[id] = addedSpecial.get(i);
        }
        for (int b = 0; b < ByteLevel.SIZE; b++) {
            Integer id = vocab.get(String.valueOf(ByteLevel.toChar(b)));
            if (id == null) {
                throw new ScalpelException("The vocabulary lacks the byte symbol '" + ByteLevel.toChar(b)
                        + "' (byte " + b + "), so it cannot encode every text; it is not a complete byte-level BPE vocabulary");
            }
            byteIds[b] = id;
        }
        ranks = new PairMap(merges.size());
        mergeResult = new int[merges.size()];
        for (int r = 0; r < merges.size(); r++) {
            String[] m = merges.get(r);
            Integer a = vocab.get(m[0]);
            Integer b = vocab.get(m[1]);
            Integer c = vocab.get(m[0] + m[1]);
            if (a == null || b == null || c == null) {
                throw new ScalpelException("Merge '" + m[0] + " " + m[1] + "' (rank " + r
                        + ") uses a token missing from the vocabulary; the tokenizer file is inconsistent");
            }
            ranks.put(pairKey(a, b), r); // a later duplicate wins, as in HF
            mergeResult[r] = c;
        }
    }

    /** Encoder for a trained vocabulary. */
    public static ByteLevelBpe of(BpeVocabulary v) {
        Map<String, Integer> vocab = v.ids();
        List<String[]> merges = new ArrayList<>(v.merges().size());
        for (BpeVocabulary.Merge m : v.merges()) {
            merges.add(new String[] {m.left(), m.right()});
        }
        List<String> specials = v.specialTokens();
        List<Integer> specialIds = new ArrayList<>();
        List<Boolean> flags = new ArrayList<>();
        for (int i = 0; i < specials.size(); i++) {
            specialIds.add(i);
            flags.add(true);
        }
        return new ByteLevelBpe(vocab, merges, specials, specialIds, flags);
    }

    /**
     * Loads a byte-level BPE {@code tokenizer.json} (as written by {@link TokenizerJsonWriter}, or GPT-2's).
     * Merges may be {@code "a b"} strings or {@code ["a","b"]} pairs.
     */
    public static ByteLevelBpe load(Path tokenizerJson) throws IOException {
        JsonNode root;
        try (var in = Files.newInputStream(tokenizerJson)) {
            root = new ObjectMapper().readTree(in);
        }
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText())) {
            throw new ScalpelException(tokenizerJson + " has a '" + model.path("type").asText()
                    + "' model; the Java encoder handles byte-level BPE only (use DJL's HuggingFaceTokenizer for others)");
        }
        JsonNode pre = root.path("pre_tokenizer");
        if (!"ByteLevel".equals(pre.path("type").asText()) || pre.path("add_prefix_space").asBoolean(false)
                || !pre.path("use_regex").asBoolean(true) || !root.path("normalizer").isNull()
                || !model.path("dropout").isNull() || !model.path("continuing_subword_prefix").isNull()
                || !model.path("end_of_word_suffix").isNull()) {
            throw new ScalpelException(tokenizerJson + " is not a plain GPT-2-style byte-level BPE tokenizer"
                    + " (needs no normalizer, a ByteLevel pre-tokenizer without prefix space, no dropout,"
                    + " no subword prefix/suffix); use DJL's HuggingFaceTokenizer for it");
        }
        Map<String, Integer> vocab = new HashMap<>();
        for (Map.Entry<String, JsonNode> e : model.path("vocab").properties()) {
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        List<String[]> merges = new ArrayList<>();
        for (JsonNode m : model.path("merges")) {
            if (m.isArray() && m.size() == 2) {
                merges.add(new String[] {m.get(0).asText(), m.get(1).asText()});
            } else {
                String s = m.asText();
                int sp = s.indexOf(' ');
                if (sp <= 0 || sp == s.length() - 1 || s.indexOf(' ', sp + 1) >= 0) {
                    throw new ScalpelException("Merge '" + s + "' in " + tokenizerJson + " is not of the form 'left right'");
                }
                merges.add(new String[] {s.substring(0, sp), s.substring(sp + 1)});
            }
        }
        List<String> added = new ArrayList<>();
        List<Integer> addedIds = new ArrayList<>();
        List<Boolean> flags = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) {
            if (t.path("lstrip").asBoolean() || t.path("rstrip").asBoolean() || t.path("single_word").asBoolean()) {
                throw new ScalpelException("Added token '" + t.path("content").asText() + "' in " + tokenizerJson
                        + " uses lstrip/rstrip/single_word, which the Java encoder does not implement");
            }
            added.add(t.path("content").asText());
            addedIds.add(t.path("id").asInt());
            flags.add(t.path("special").asBoolean());
        }
        return new ByteLevelBpe(vocab, merges, added, addedIds, flags);
    }

    /** Number of ids (highest id + 1). */
    public int vocabSize() {
        return tokens.length;
    }

    /** The token string of {@code id} (byte-level form), or null for an unused id. */
    public String token(int id) {
        return id >= 0 && id < tokens.length ? tokens[id] : null;
    }

    /** The id of a token string, or -1. */
    public int id(String token) {
        Integer id = ids.get(token);
        return id == null ? -1 : id;
    }

    /** Ids of {@code text}, as HF {@code encode(text, add_special_tokens=false)} gives them. */
    public int[] encode(String text) {
        text = withoutLoneSurrogates(text);
        IntList out = new IntList(Math.max(16, text.length() / 3));
        int n = text.length();
        int pos = 0;
        int[] next = new int[added.length]; // cached next occurrence of each added token (-2: not searched)
        Arrays.fill(next, -2);
        while (pos < n) {
            int best = -1;
            int bestAt = n;
            for (int i = 0; i < added.length; i++) {
                if (next[i] != -1 && next[i] < pos) {
                    next[i] = text.indexOf(added[i], pos);
                }
                int at = next[i];
                if (at >= 0 && (at < bestAt || (best >= 0 && at == bestAt && added[i].length() > added[best].length()))) {
                    best = i;
                    bestAt = at;
                }
            }
            encodeOrdinary(text, pos, bestAt, out);
            if (best < 0) {
                break;
            }
            out.add(addedIds[best]);
            pos = bestAt + added[best].length();
        }
        return out.toArray();
    }

    /** {@code text} with every lone surrogate replaced by U+FFFD (they have no UTF-8 form). */
    static String withoutLoneSurrogates(String text) {
        StringBuilder b = null;
        int n = text.length();
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                    if (b != null) {
                        b.append(c).append(text.charAt(i + 1));
                    }
                    i++;
                    continue;
                }
                if (b == null) {
                    b = new StringBuilder(n).append(text, 0, i);
                }
                b.append('\uFFFD');
            } else if (b != null) {
                b.append(c);
            }
        }
        return b == null ? text : b.toString();
    }

    /** Token strings of {@code text} (byte-level form), for inspection. */
    public List<String> tokenize(String text) {
        int[] idsOf = encode(text);
        List<String> out = new ArrayList<>(idsOf.length);
        for (int id : idsOf) {
            out.add(tokens[id]);
        }
        return out;
    }

    private void encodeOrdinary(String text, int from, int to, IntList out) {
        if (to <= from) {
            return;
        }
        String segment = text.substring(from, to);
        ByteLevelPreTokenizer.split(segment, (s, e) -> {
            String piece = segment.substring(s, e);
            int[] cached = cache.get(piece);
            if (cached == null) {
                cached = encodeWord(piece.getBytes(StandardCharsets.UTF_8));
                if (piece.length() <= CACHE_MAX_WORD && cache.size() < CACHE_LIMIT) {
                    cache.put(piece, cached);
                }
            }
            out.addAll(cached);
        });
    }

    /** BPE of one pre-token, a port of HF {@code Word::merge_all} without dropout. */
    int[] encodeWord(byte[] bytes) {
        int n = bytes.length;
        int[] sym = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        boolean[] removed = new boolean[n];
        for (int i = 0; i < n; i++) {
            sym[i] = byteIds[bytes[i] & 0xFF];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        if (n < 2) {
            return sym;
        }
        LongHeap heap = new LongHeap(n);
        for (int i = 0; i + 1 < n; i++) {
            int r = ranks.get(pairKey(sym[i], sym[i + 1]));
            if (r >= 0) {
                heap.push(((long) r << 32) | i);
            }
        }
        int live = n;
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int rank = (int) (top >>> 32);
            int pos = (int) top;
            if (removed[pos] || next[pos] == -1) {
                continue;
            }
            int right = next[pos];
            int r = ranks.get(pairKey(sym[pos], sym[right]));
            if (r < 0 || mergeResult[r] != mergeResult[rank]) {
                continue; // expired entry (HF compares the resulting id, not the rank)
            }
            sym[pos] = mergeResult[rank];
            removed[right] = true;
            live--;
            next[pos] = next[right];
            if (next[right] != -1) {
                prev[next[right]] = pos;
            }
            if (prev[pos] >= 0) {
                int pr = ranks.get(pairKey(sym[prev[pos]], sym[pos]));
                if (pr >= 0) {
                    heap.push(((long) pr << 32) | prev[pos]);
                }
            }
            if (next[pos] != -1) {
                int nr = ranks.get(pairKey(sym[pos], sym[next[pos]]));
                if (nr >= 0) {
                    heap.push(((long) nr << 32) | pos);
                }
            }
        }
        int[] out = new int[live];
        for (int i = 0, k = 0; i < n; i++) {
            if (!removed[i]) {
                out[k++] = sym[i];
            }
        }
        return out;
    }

    /** Text of {@code ids}, special tokens included (HF {@code decode(ids, skip_special_tokens=false)}). */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /** Text of {@code ids}; unknown ids are dropped, as HF does. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        return new String(bytes(ids, skipSpecialTokens), StandardCharsets.UTF_8);
    }

    /** The exact bytes {@code ids} stand for (no UTF-8 decoding, so partial characters stay intact). */
    public byte[] decodeBytes(int[] ids) {
        return bytes(ids, false);
    }

    private byte[] bytes(int[] idsIn, boolean skipSpecial) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(idsIn.length * 4);
        for (int id : idsIn) {
            if (id < 0 || id >= tokens.length || tokens[id] == null || (skipSpecial && special[id])) {
                continue;
            }
            byte[] b = ByteLevel.decodeOrNull(tokens[id]);
            if (b == null) {
                b = tokens[id].getBytes(StandardCharsets.UTF_8);
            }
            out.write(b, 0, b.length);
        }
        return out.toByteArray();
    }

    private static long pairKey(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    /** Open-addressing map from a pair key to a merge rank (-1 when absent). */
    private static final class PairMap {
        private final long[] keys;
        private final int[] values;
        private final boolean[] used;
        private final int mask;

        PairMap(int expected) {
            int cap = Integer.highestOneBit(Math.max(4, expected * 2 + 1)) << 1;
            keys = new long[cap];
            values = new int[cap];
            used = new boolean[cap];
            mask = cap - 1;
        }

        private int slot(long k) {
            long h = k * 0x9E3779B97F4A7C15L;
            return (int) (h >>> 40) & mask;
        }

        void put(long k, int v) {
            int i = slot(k);
            while (used[i] && keys[i] != k) {
                i = (i + 1) & mask;
            }
            used[i] = true;
            keys[i] = k;
            values[i] = v;
        }

        int get(long k) {
            int i = slot(k);
            while (used[i]) {
                if (keys[i] == k) {
                    return values[i];
                }
                i = (i + 1) & mask;
            }
            return -1;
        }
    }

    /** Min-heap of longs. */
    private static final class LongHeap {
        private long[] a;
        private int size;

        LongHeap(int capacity) {
            a = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void push(long v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (a[p] <= v) {
                    break;
                }
                a[i] = a[p];
                i = p;
            }
            a[i] = v;
        }

        long pop() {
            long top = a[0];
            long last = a[--size];
            int i = 0;
            while (true) {
                int l = 2 * i + 1;
                if (l >= size) {
                    break;
                }
                int c = l + 1 < size && a[l + 1] < a[l] ? l + 1 : l;
                if (a[c] >= last) {
                    break;
                }
                a[i] = a[c];
                i = c;
            }
            a[i] = last;
            return top;
        }
    }

    /** Growable int array. */
    private static final class IntList {
        private int[] a;
        private int size;

        IntList(int capacity) {
            a = new int[capacity];
        }

        void add(int v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, size * 2);
            }
            a[size++] = v;
        }

        void addAll(int[] vs) {
            if (size + vs.length > a.length) {
                a = Arrays.copyOf(a, Math.max(a.length * 2, size + vs.length));
            }
            System.arraycopy(vs, 0, a, size, vs.length);
            size += vs.length;
        }

        int[] toArray() {
            return Arrays.copyOf(a, size);
        }
    }
}
