package dev.scalpel.engine.tokenize;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.scalpel.engine.files.Output;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.CancellationException;

/**
 * Trains a GPT-2-style byte-level BPE vocabulary: pre-tokenize with {@link ByteLevelPreTokenizer},
 * count the pre-tokens ({@link WordCounts}), start from the 256 byte symbols, then repeatedly merge the
 * most frequent adjacent pair until the vocabulary has {@link Options#vocabSize()} tokens.
 *
 * <p>Same algorithm and tie-break as the Hugging Face {@code BpeTrainer}: pair counts are kept up to
 * date incrementally — only the words that contain the merged pair are touched, found through an index
 * pair → words — and a max-priority queue with lazy re-validation picks the next pair. The winner is the
 * pair with the highest count; among equal counts the pair with the smaller (left id, right id), ids
 * being vocabulary ids (special tokens, then byte symbols in {@link ByteLevel#alphabet()} order, then
 * merge results in creation order). Hence training is deterministic.
 *
 * <p>If a merge produces a token that already exists (e.g. {@code "ab"+"c"} after {@code "a"+"bc"}),
 * the existing id is reused, as HF does, so the merge list can be longer than
 * {@code vocabSize - specials - 256}. Training stops when the vocabulary is full, when no pair is left,
 * or when the best pair occurs fewer than {@link Options#minFrequency()} times.
 *
 * <p>Cancel by interrupting the training thread: a {@link CancellationException} is thrown and nothing
 * is written.
 */
public final class BpeTrainer {

    private static final Logger LOG = LoggerFactory.getLogger(BpeTrainer.class);

    /** Special tokens of the sample model, ids 0, 1, 2. The model code adds BOS itself. */
    public static final List<String> DEFAULT_SPECIAL_TOKENS = List.of("<|bos|>", "<|eos|>", "<|pad|>");
    /** Default byte cap per training source: covers each bundled 3 MB corpus file whole. */
    public static final long DEFAULT_MAX_BYTES_PER_SOURCE = 4L << 20;
    /** Default minimum pair frequency for a merge. */
    public static final int DEFAULT_MIN_FREQUENCY = 2;

    /**
     * Training options.
     *
     * @param vocabSize         target number of tokens, special tokens and the 256 byte symbols included
     * @param minFrequency      a pair must occur at least this often to be merged (0 or 1: any pair)
     * @param maxBytesPerSource byte cap per source file; larger files are sampled (see {@link WordCounts})
     * @param specialTokens     special tokens, given ids 0, 1, … in this order
     */
    public record Options(int vocabSize, int minFrequency, long maxBytesPerSource, List<String> specialTokens) {
        public Options {
            specialTokens = List.copyOf(specialTokens);
            if (vocabSize < specialTokens.size() + ByteLevel.SIZE) {
                throw new IllegalArgumentException("vocabSize " + vocabSize + " is smaller than the "
                        + specialTokens.size() + " special tokens plus 256 byte symbols; ask for at least "
                        + (specialTokens.size() + ByteLevel.SIZE));
            }
            if (minFrequency < 0) {
                throw new IllegalArgumentException("minFrequency must be >= 0, got " + minFrequency);
            }
            if (maxBytesPerSource <= 0) {
                throw new IllegalArgumentException("maxBytesPerSource must be > 0, got " + maxBytesPerSource);
            }
            Set<String> seen = new HashSet<>();
            for (String s : specialTokens) {
                if (s.isEmpty() || !seen.add(s)) {
                    throw new IllegalArgumentException("Special token '" + s + "' is empty or given twice");
                }
                if (s.length() == 1 && ByteLevel.toByte(s.charAt(0)) >= 0) {
                    throw new IllegalArgumentException("Special token '" + s
                            + "' is a single byte symbol and would clash with the byte vocabulary; use a longer name such as <|" + s + "|>");
                }
            }
        }

        /** The defaults for a vocabulary of {@code vocabSize} tokens. */
        public static Options defaults(int vocabSize) {
            return new Options(vocabSize, DEFAULT_MIN_FREQUENCY, DEFAULT_MAX_BYTES_PER_SOURCE, DEFAULT_SPECIAL_TOKENS);
        }

        public Options withMinFrequency(int f) {
            return new Options(vocabSize, f, maxBytesPerSource, specialTokens);
        }

        public Options withMaxBytesPerSource(long cap) {
            return new Options(vocabSize, minFrequency, cap, specialTokens);
        }

        public Options withSpecialTokens(List<String> tokens) {
            return new Options(vocabSize, minFrequency, maxBytesPerSource, tokens);
        }
    }

    /** Progress of a training run. */
    @FunctionalInterface
    public interface Progress {
        /**
         * @param fraction of the whole run done, 0..1
         * @param message  what is being done, e.g. "merge 1200/7933"
         */
        void update(double fraction, String message);

        Progress NONE = (fraction, message) -> { };
    }

    /**
     * What training produced.
     *
     * @param vocabulary       the learned vocabulary
     * @param mergeFrequencies how often each merge's pair occurred when it was merged (index = rank)
     * @param distinctWords    number of distinct pre-tokens trained on
     * @param bytesCounted     UTF-8 bytes of text trained on
     * @param countTime        time spent reading and counting pre-tokens
     * @param mergeTime        time spent learning merges
     */
    public record Result(BpeVocabulary vocabulary, List<Long> mergeFrequencies, int distinctWords,
                         long bytesCounted, Duration countTime, Duration mergeTime) {
        public Result {
            mergeFrequencies = List.copyOf(mergeFrequencies);
        }
    }

    private BpeTrainer() {
    }

    /** Reads and counts the sources (in parallel), then learns the merges. */
    public static Result train(List<Path> sources, Options options, Progress progress) throws IOException {
        long t0 = System.nanoTime();
        progress.update(0, "Counting words in " + sources.size() + " source(s)");
        WordCounts counts = WordCounts.ofFiles(sources, options.maxBytesPerSource());
        Duration countTime = Duration.ofNanos(System.nanoTime() - t0);
        Result r = train(counts, options, progress);
        return new Result(r.vocabulary(), r.mergeFrequencies(), r.distinctWords(), r.bytesCounted(),
                countTime, r.mergeTime());
    }

    /**
     * Trains on {@code sources} and writes the Hugging Face {@code tokenizer.json} to
     * {@code tokenizerJson} of {@code out} (atomically).
     */
    public static Result trainToFile(List<Path> sources, Output out, Path tokenizerJson, Options options, Progress progress)
            throws IOException {
        Result r = train(sources, options, progress);
        out.writeBytes(tokenizerJson, TokenizerJsonWriter.toBytes(r.vocabulary()));
        LOG.info("Wrote {} ({} tokens, {} merges, {} distinct words from {} bytes; counting {} ms, merges {} ms)",
                tokenizerJson, r.vocabulary().size(), r.vocabulary().merges().size(), r.distinctWords(),
                r.bytesCounted(), r.countTime().toMillis(), r.mergeTime().toMillis());
        return r;
    }

    /** {@link #trainToFile(List, Output, Path, Options, Progress)} with the progress logged every 10 %. */
    public static Result trainToFile(List<Path> sources, Output out, Path tokenizerJson, Options options) throws IOException {
        double[] next = {0};
        return trainToFile(sources, out, tokenizerJson, options, (fraction, message) -> {
            if (fraction >= next[0]) {
                LOG.info("BPE training {}%: {}", Math.round(fraction * 100), message);
                next[0] = Math.floor(fraction * 10 + 1) / 10;
            }
        });
    }

    /** Learns merges from already counted pre-tokens ({@link Options#maxBytesPerSource()} is not used). */
    public static Result train(WordCounts counts, Options options, Progress progress) {
        long t0 = System.nanoTime();
        Learner learner = new Learner(counts.counts(), options, progress);
        BpeVocabulary vocabulary = learner.run();
        return new Result(vocabulary, learner.frequencies, counts.counts().size(), counts.bytes(),
                Duration.ZERO, Duration.ofNanos(System.nanoTime() - t0));
    }

    private static long key(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    /** A pair's current count and the words that contain (or once contained) it. */
    private static final class PairInfo {
        final int a;
        final int b;
        long count;
        int[] words = new int[4];
        int nWords;

        PairInfo(long key) {
            this.a = (int) (key >>> 32);
            this.b = (int) key;
        }

        void addWord(int w) {
            if (nWords > 0 && words[nWords - 1] == w) {
                return;
            }
            if (nWords == words.length) {
                words = java.util.Arrays.copyOf(words, nWords * 2);
            }
            words[nWords++] = w;
        }
    }

    /** Queue entry: a pair with the count it had when queued (may be stale). */
    private record Candidate(long count, int a, int b) {
    }

    /** One training run's state. */
    private static final class Learner {
        private final Options options;
        private final Progress progress;
        private final List<String> tokens = new ArrayList<>();
        private final Map<String, Integer> ids = new HashMap<>();
        private final List<BpeVocabulary.Merge> merges = new ArrayList<>();
        private final Set<Long> mergedPairs = new HashSet<>();
        final List<Long> frequencies = new ArrayList<>();
        /** Symbols of each distinct word; the first {@code lengths[w]} are live. */
        private final int[][] symbols;
        private final int[] lengths;
        private final long[] wordCounts;
        private final Map<Long, PairInfo> pairs = new HashMap<>();
        private final PriorityQueue<Candidate> queue = new PriorityQueue<>((x, y) -> {
            int c = Long.compare(y.count, x.count);
            if (c != 0) {
                return c;
            }
            c = Integer.compare(x.a, y.a);
            return c != 0 ? c : Integer.compare(x.b, y.b);
        });

        Learner(Map<String, Long> counts, Options options, Progress progress) {
            this.options = options;
            this.progress = progress;
            for (String s : options.specialTokens()) {
                addToken(s);
            }
            for (String s : ByteLevel.alphabet()) {
                addToken(s);
            }
            int specials = options.specialTokens().size();
            int[] byteIds = new int[ByteLevel.SIZE];
            for (int b = 0; b < ByteLevel.SIZE; b++) {
                byteIds[b] = specials + ByteLevel.rank(b);
            }
            int n = counts.size();
            symbols = new int[n][];
            lengths = new int[n];
            wordCounts = new long[n];
            int w = 0;
            for (Map.Entry<String, Long> e : counts.entrySet()) {
                byte[] bytes = e.getKey().getBytes(StandardCharsets.UTF_8);
                int[] s = new int[bytes.length];
                for (int i = 0; i < bytes.length; i++) {
                    s[i] = byteIds[bytes[i] & 0xFF];
                }
                symbols[w] = s;
                lengths[w] = s.length;
                wordCounts[w] = e.getValue();
                w++;
            }
        }

        private int addToken(String t) {
            int id = tokens.size();
            tokens.add(t);
            ids.put(t, id);
            return id;
        }

        BpeVocabulary run() {
            countPairs();
            int start = tokens.size();
            int target = options.vocabSize();
            long minCount = Math.max(1, options.minFrequency());
            int[] stamp = new int[symbols.length];
            java.util.Arrays.fill(stamp, -1);
            Map<Long, long[]> delta = new HashMap<>();
            int step = 0;
            while (tokens.size() < target) {
                Candidate top = queue.poll();
                if (top == null) {
                    break;
                }
                long k = key(top.a, top.b);
                PairInfo info = pairs.get(k);
                long current = info == null ? 0 : info.count;
                if (current != top.count) {
                    if (current > 0 && current < top.count) {
                        queue.add(new Candidate(current, top.a, top.b));
                    }
                    continue;
                }
                if (current < minCount) {
                    break;
                }
                if ((step & 63) == 0) {
                    if (Thread.currentThread().isInterrupted()) {
                        throw new CancellationException("BPE training was cancelled");
                    }
                    double f = (tokens.size() - start) / (double) Math.max(1, target - start);
                    progress.update(0.1 + 0.9 * f, "Merge " + (tokens.size() - start) + "/" + (target - start));
                }
                mergePair(info, step, stamp, delta);
                step++;
            }
            progress.update(1.0, "Learned " + merges.size() + " merges, " + tokens.size() + " tokens");
            return new BpeVocabulary(tokens, merges, options.specialTokens().size());
        }

        private void countPairs() {
            for (int w = 0; w < symbols.length; w++) {
                int[] s = symbols[w];
                long c = wordCounts[w];
                for (int i = 0; i + 1 < s.length; i++) {
                    PairInfo p = pairs.computeIfAbsent(key(s[i], s[i + 1]), PairInfo::new);
                    p.count += c;
                    p.addWord(w);
                }
            }
            for (PairInfo p : pairs.values()) {
                queue.add(new Candidate(p.count, p.a, p.b));
            }
        }

        /** Merges {@code info}'s pair in every word that has it and updates the counts of touched pairs. */
        private void mergePair(PairInfo info, int step, int[] stamp, Map<Long, long[]> delta) {
            int a = info.a;
            int b = info.b;
            String left = tokens.get(a);
            String right = tokens.get(b);
            String merged = left + right;
            Integer existing = ids.get(merged);
            int c = existing != null ? existing : addToken(merged);
            long pairKey = key(a, b);
            if (mergedPairs.add(pairKey)) { // a pair re-formed through a reused token keeps its first rank
                merges.add(new BpeVocabulary.Merge(left, right));
                frequencies.add(info.count);
            }
            pairs.remove(pairKey);
            delta.clear();
            for (int k = 0; k < info.nWords; k++) {
                int w = info.words[k];
                if (stamp[w] == step) {
                    continue;
                }
                stamp[w] = step;
                int[] s = symbols[w];
                int len = lengths[w];
                int first = -1;
                for (int i = 0; i + 1 < len; i++) {
                    if (s[i] == a && s[i + 1] == b) {
                        first = i;
                        break;
                    }
                }
                if (first < 0) {
                    continue; // the pair left this word in an earlier merge
                }
                long count = wordCounts[w];
                // pairs left of first-1 are unchanged; take out all pairs from there on, merge, put back
                int from = Math.max(0, first - 1);
                for (int i = from; i + 1 < len; i++) {
                    delta.computeIfAbsent(key(s[i], s[i + 1]), x -> new long[1])[0] -= count;
                }
                int out = first;
                for (int i = first; i < len; ) {
                    if (i + 1 < len && s[i] == a && s[i + 1] == b) {
                        s[out++] = c;
                        i += 2;
                    } else {
                        s[out++] = s[i++];
                    }
                }
                len = out;
                lengths[w] = len;
                for (int i = from; i + 1 < len; i++) {
                    long pk = key(s[i], s[i + 1]);
                    delta.computeIfAbsent(pk, x -> new long[1])[0] += count;
                    if (s[i] == c || s[i + 1] == c) { // only pairs with the new token are new to this word
                        pairs.computeIfAbsent(pk, PairInfo::new).addWord(w);
                    }
                }
            }
            for (Map.Entry<Long, long[]> e : delta.entrySet()) {
                long d = e.getValue()[0];
                long pk = e.getKey();
                if (d == 0 || pk == pairKey) {
                    continue;
                }
                PairInfo p = pairs.get(pk);
                p.count += d;
                if (p.count <= 0) {
                    if (p.count < 0) {
                        throw new IllegalStateException("BPE pair count went negative; this is a bug");
                    }
                    pairs.remove(pk);
                } else if (d > 0) {
                    queue.add(new Candidate(p.count, p.a, p.b));
                }
            }
        }
    }
}
