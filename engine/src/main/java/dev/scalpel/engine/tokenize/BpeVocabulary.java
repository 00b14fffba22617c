package dev.scalpel.engine.tokenize;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A byte-level BPE vocabulary: the tokens in id order and the merges in rank order.
 *
 * <p>Layout: ids {@code 0 .. specialCount-1} are the special tokens (added tokens, never produced by
 * merges of ordinary text), the next 256 ids are the byte symbols in {@link ByteLevel#alphabet()} order,
 * and the rest are merge results in the order the trainer created them. Tokens other than the special
 * ones are byte-level strings (one {@link ByteLevel} character per byte), as in a Hugging Face
 * {@code tokenizer.json} vocab. Merge {@code i} has rank {@code i}: lower ranks are applied first.
 *
 * @param tokens       every token, index = id; no duplicates
 * @param merges       every merge, index = rank; left, right and left+right are tokens
 * @param specialCount how many leading tokens are special
 */
public record BpeVocabulary(List<String> tokens, List<Merge> merges, int specialCount) {

    /** One merge rule: the adjacent pair {@code left right} becomes the token {@code left + right}. */
    public record Merge(String left, String right) {
        public Merge {
            if (left.isEmpty() || right.isEmpty()) {
                throw new IllegalArgumentException("A merge needs two non-empty tokens, got '" + left + "' '" + right + "'");
            }
        }

        /** The merged token. */
        public String result() {
            return left + right;
        }

        /** The {@code "left right"} form of {@code tokenizer.json} merges. */
        @Override
        public String toString() {
            return left + " " + right;
        }
    }

    public BpeVocabulary {
        tokens = List.copyOf(tokens);
        merges = List.copyOf(merges);
        if (specialCount < 0 || specialCount + ByteLevel.SIZE > tokens.size()) {
            throw new IllegalArgumentException("A byte-level vocabulary needs " + specialCount
                    + " special tokens and 256 byte symbols, but has only " + tokens.size() + " tokens");
        }
        Set<String> seen = new HashSet<>(tokens.size() * 2);
        for (String t : tokens) {
            if (t.isEmpty() || !seen.add(t)) {
                throw new IllegalArgumentException("Token '" + t + "' is empty or occurs twice in the vocabulary");
            }
        }
        List<String> alphabet = ByteLevel.alphabet();
        for (int r = 0; r < ByteLevel.SIZE; r++) {
            if (!tokens.get(specialCount + r).equals(alphabet.get(r))) {
                throw new IllegalArgumentException("Id " + (specialCount + r) + " must be the byte symbol '"
                        + alphabet.get(r) + "' but is '" + tokens.get(specialCount + r) + "'");
            }
        }
        Set<Merge> seenMerges = new HashSet<>(merges.size() * 2);
        for (Merge m : merges) {
            if (!seen.contains(m.left()) || !seen.contains(m.right()) || !seen.contains(m.result())) {
                throw new IllegalArgumentException("Merge '" + m + "' uses a token that is not in the vocabulary");
            }
            if (!seenMerges.add(m)) {
                throw new IllegalArgumentException("Merge '" + m + "' occurs twice");
            }
        }
    }

    /** Number of tokens (the model's vocab size). */
    public int size() {
        return tokens.size();
    }

    /** The special tokens, in id order. */
    public List<String> specialTokens() {
        return tokens.subList(0, specialCount);
    }

    /** Id of the byte symbol for byte {@code b}. */
    public int byteId(int b) {
        return specialCount + ByteLevel.rank(b);
    }

    /** Token → id. */
    public Map<String, Integer> ids() {
        Map<String, Integer> ids = new HashMap<>(tokens.size() * 2);
        for (int i = 0; i < tokens.size(); i++) {
            ids.put(tokens.get(i), i);
        }
        return ids;
    }
}
