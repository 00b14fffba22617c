package dev.scalpel.engine.tokenize;

import dev.scalpel.engine.api.ScalpelException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * How often each pre-token ({@link ByteLevelPreTokenizer} piece) occurs in a set of texts: the input of
 * BPE training.
 *
 * @param counts pre-token text → occurrences
 * @param bytes  UTF-8 bytes of text that were counted
 */
public record WordCounts(Map<String, Long> counts, long bytes) {

    /** Smallest window read from a source larger than its byte cap. */
    static final int MIN_WINDOW_BYTES = 8 * 1024;
    /** Most windows read from one source. */
    static final int MAX_WINDOWS = 64;

    public WordCounts {
        counts = Collections.unmodifiableMap(counts);
    }

    /** Counts the pre-tokens of in-memory texts (each text pre-tokenized as a whole). */
    public static WordCounts ofTexts(List<String> texts) {
        Map<String, long[]> acc = new HashMap<>();
        long bytes = 0;
        for (String t : texts) {
            count(t, acc);
            bytes += utf8Length(t);
        }
        return new WordCounts(unbox(acc), bytes);
    }

    /**
     * Counts the pre-tokens of UTF-8 text files, one thread per file up to the number of cores.
     * A file larger than {@code maxBytesPerSource} is sampled: up to 64 windows, evenly spread over the
     * file, together about {@code maxBytesPerSource} bytes, each cut to whole lines. Invalid UTF-8 is read
     * as U+FFFD. Counting is deterministic: the same files and cap give the same counts.
     */
    public static WordCounts ofFiles(List<Path> sources, long maxBytesPerSource) throws IOException {
        if (maxBytesPerSource <= 0) {
            throw new IllegalArgumentException("maxBytesPerSource must be > 0, got " + maxBytesPerSource);
        }
        for (Path p : sources) {
            if (!Files.isRegularFile(p)) {
                throw new NoSuchFileException(p.toString(), null,
                        "not a readable text file; give the path of a UTF-8 training text");
            }
        }
        int threads = Math.max(1, Math.min(sources.size(), Runtime.getRuntime().availableProcessors()));
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "bpe-word-count");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<WordCounts>> futures = new ArrayList<>();
            for (Path p : sources) {
                futures.add(pool.submit(() -> countFile(p, maxBytesPerSource)));
            }
            Map<String, Long> total = new HashMap<>();
            long bytes = 0;
            for (Future<WordCounts> f : futures) { // in source order: deterministic
                WordCounts wc = f.get();
                wc.counts().forEach((k, v) -> total.merge(k, v, Long::sum));
                bytes += wc.bytes();
            }
            return new WordCounts(total, bytes);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("Word counting was cancelled");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new ScalpelException("Counting words failed: " + cause, cause);
        } finally {
            pool.shutdownNow();
        }
    }

    private static WordCounts countFile(Path p, long cap) throws IOException {
        Map<String, long[]> acc = new HashMap<>();
        long bytes = 0;
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size <= cap) {
                bytes += countWindow(ch, 0, size, true, acc);
            } else {
                int windows = (int) Math.max(1, Math.min(MAX_WINDOWS, cap / MIN_WINDOW_BYTES));
                long windowLen = cap / windows;
                for (int w = 0; w < windows; w++) {
                    if (Thread.currentThread().isInterrupted()) {
                        throw new CancellationException("Word counting was cancelled");
                    }
                    long start = size * w / windows;
                    long len = Math.min(windowLen, size - start);
                    bytes += countWindow(ch, start, len, start + len >= size, acc);
                }
            }
        }
        return new WordCounts(unbox(acc), bytes);
    }

    /** Counts one window, cut to whole lines (after the first newline unless at 0, through the last). */
    private static long countWindow(FileChannel ch, long start, long len, boolean toEnd, Map<String, long[]> acc)
            throws IOException {
        if (len > Integer.MAX_VALUE - 16) {
            throw new ScalpelException("A training text window of " + len
                    + " bytes is too large; set a smaller byte cap per source (at most 2 GB)");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) len);
        while (buf.hasRemaining()) {
            if (ch.read(buf, start + buf.position()) < 0) {
                break;
            }
        }
        byte[] a = buf.array();
        int n = buf.position();
        int from = 0;
        if (start > 0) {
            while (from < n && a[from] != '\n') {
                from++;
            }
            from = Math.min(n, from + 1);
        }
        int to = n;
        if (!toEnd) {
            int last = n - 1;
            while (last >= from && a[last] != '\n') {
                last--;
            }
            if (last >= from) {
                to = last + 1;
            } else {
                // no line end in the window: cut before a UTF-8 continuation sequence
                while (to > from && (a[to - 1] & 0xC0) == 0x80) {
                    to--;
                }
                if (to > from && (a[to - 1] & 0x80) != 0) {
                    to--;
                }
            }
        }
        if (to <= from) {
            return 0;
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE)
                    .decode(ByteBuffer.wrap(a, from, to - from)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalStateException("UTF-8 decoding with REPLACE cannot fail", e);
        }
        count(text, acc);
        return to - from;
    }

    private static void count(String text, Map<String, long[]> acc) {
        ByteLevelPreTokenizer.split(text, (s, e) -> {
            String piece = text.substring(s, e);
            long[] c = acc.get(piece);
            if (c == null) {
                acc.put(piece, new long[] {1});
            } else {
                c[0]++;
            }
        });
    }

    private static Map<String, Long> unbox(Map<String, long[]> acc) {
        Map<String, Long> out = new HashMap<>(acc.size() * 2);
        acc.forEach((k, v) -> out.put(k, v[0]));
        return out;
    }

    static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                n += 1; // a lone surrogate is written as '?' by Java's UTF-8 encoder
            } else {
                n += 3;
            }
        }
        return n;
    }
}
