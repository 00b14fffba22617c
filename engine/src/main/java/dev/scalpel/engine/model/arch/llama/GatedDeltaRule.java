package dev.scalpel.engine.model.arch.llama;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The gated delta rule over a sequence, in transformers' two forms, which give the same numbers: per value head, with
 * state S [D_k, D_v], at each position {@code S = exp(g)·S; S += k ⊗ β(v − kᵀS); o = qᵀS}.
 * Shapes: q, k [B, H, S, D_k] (L2-normed, q scaled by 1/√D_k), v [B, H, S, D_v], β and g [B, H, S].
 */
final class GatedDeltaRule {
    /** Positions per chunk of the chunked form (transformers' default). */
    static final int CHUNK = 64;

    private GatedDeltaRule() {}

    /** {o [B, H, S, D_v], the state after the last position [B, H, D_k, D_v]}. */
    record Result(Tensor output, Tensor state) {}

    /** Position by position: S small matmuls per head; what a one-token decode step runs. */
    static Result recurrent(Tensor q, Tensor k, Tensor v, Tensor beta, Tensor decay, Tensor state) {
        long s = q.size(2);
        Tensor[] outputs = new Tensor[(int) s];
        for (int t = 0; t < s; t++) {
            Tensor qt = q.narrow(2, t, 1);                                                 // [B, H, 1, Dk]
            Tensor kt = k.narrow(2, t, 1);                                                 // [B, H, 1, Dk]
            Tensor bt = beta.narrow(2, t, 1).unsqueeze(-1);                                // [B, H, 1, 1]
            state = state.mul(decay.narrow(2, t, 1).exp().unsqueeze(-1));                 // [B, H, Dk, Dv]
            Tensor delta = v.narrow(2, t, 1).sub(kt.matmul(state)).mul(bt);               // [B, H, 1, Dv]
            state = state.add(kt.transpose(-2, -1).matmul(delta));
            outputs[t] = qt.matmul(state);                                                 // [B, H, 1, Dv]
        }
        return new Result(torch.cat(new TensorVector(outputs), 2), state);
    }

    /**
     * Chunk by chunk (transformers' {@code torch_chunk_gated_delta_rule}): within a chunk of C positions the updates
     * are condensed by a unit-lower-triangular solve (the UT transform) into matmuls; only the chunks run in sequence.
     */
    static Result chunked(Tensor q, Tensor k, Tensor v, Tensor beta, Tensor decay, Tensor state) {
        long b = q.size(0), h = q.size(1), s = q.size(2), dk = q.size(3), dv = v.size(3);
        long pad = (CHUNK - s % CHUNK) % CHUNK, n = (s + pad) / CHUNK;
        q = torch.constant_pad_nd(q, 0, 0, 0, pad).reshape(b, h, n, CHUNK, dk);                       // [B, H, N, C, Dk]
        k = torch.constant_pad_nd(k, 0, 0, 0, pad).reshape(b, h, n, CHUNK, dk);
        v = torch.constant_pad_nd(v, 0, 0, 0, pad).reshape(b, h, n, CHUNK, dv);                       // [B, H, N, C, Dv]
        Tensor bt = torch.constant_pad_nd(beta, 0, pad).reshape(b, h, n, CHUNK, 1);                   // [B, H, N, C, 1]
        Tensor cum = torch.constant_pad_nd(decay, 0, pad).reshape(b, h, n, CHUNK).cumsum(3);          // [B, H, N, C] log decay from chunk start
        Tensor vBeta = v.mul(bt), kBeta = k.mul(bt);

        Tensor above = torch.ones(new long[] {CHUNK, CHUNK}, new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Bool)
                .device(new org.bytedeco.pytorch.DeviceOptional(q.device()))).triu(1);                // [C, C] j > i
        Tensor pairwise = cum.unsqueeze(4).sub(cum.unsqueeze(3))
                .masked_fill(above, new Scalar(Double.NEGATIVE_INFINITY)).exp();                      // [B, H, N, C, C] decay from j to i
        Tensor ut = kBeta.matmul(k.transpose(-1, -2)).mul(pairwise);                                  // the UT system
        Tensor attnWithin = q.matmul(k.transpose(-1, -2)).mul(pairwise);                              // [B, H, N, C, C]
        Tensor cumExp = cum.exp().unsqueeze(-1);                                                      // [B, H, N, C, 1]
        Tensor newValues = torch.linalg_solve_triangular(ut, vBeta, false, true, true);               // [B, H, N, C, Dv]
        Tensor kCumDecay = torch.linalg_solve_triangular(ut, kBeta.mul(cumExp), false, true, true);   // [B, H, N, C, Dk]

        Tensor qDecayed = q.mul(cumExp);
        Tensor last = cum.narrow(3, CHUNK - 1, 1);                                                   // [B, H, N, 1]
        Tensor kDecayed = k.mul(last.sub(cum).exp().unsqueeze(-1));                                   // decay to the chunk's end
        Tensor chunkDecay = last.exp().unsqueeze(-1);                                                 // [B, H, N, 1, 1]
        Tensor[] outputs = new Tensor[(int) n];
        for (int i = 0; i < n; i++) {
            Tensor vNew = newValues.select(2, i).sub(kCumDecay.select(2, i).matmul(state));          // [B, H, C, Dv]
            outputs[i] = qDecayed.select(2, i).matmul(state).add(attnWithin.select(2, i).matmul(vNew));
            state = state.mul(chunkDecay.select(2, i)).add(kDecayed.select(2, i).transpose(-1, -2).matmul(vNew));
        }
        Tensor out = torch.cat(new TensorVector(outputs), 2).narrow(2, 0, s);                        // [B, H, S, Dv]
        return new Result(out, state);
    }
}
