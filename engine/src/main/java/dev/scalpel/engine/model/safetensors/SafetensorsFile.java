package dev.scalpel.engine.model.safetensors;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One open safetensors file: its validated header, and its tensors' bytes memory-mapped on demand.
 *
 * <p>Layout: an 8-byte little-endian length {@code N}, {@code N} bytes of UTF-8 JSON header, then the
 * data section. {@link #open} reads and checks the whole header (see {@link SafetensorsHeader} for the
 * rules) and maps nothing; {@link #data} maps one tensor's region the first time it is asked for, so a
 * file of any size opens, as long as each single tensor is under 2 GiB (the most a Java buffer holds).
 *
 * <p>Buffers already returned by {@link #data} stay readable after {@link #close} (a mapping lives until
 * it is garbage-collected); {@code close} releases the file handle. Safe to read from several threads.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Largest header accepted by {@link #open(Path)}; the reference implementation uses the same limit. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final int LENGTH_PREFIX_BYTES = 8;

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors;
    private final List<String> names;
    private final Map<String, String> metadata;
    private final Map<String, ByteBuffer> mapped = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, SafetensorsHeader header) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.metadata = header.metadata();
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        header.tensors().forEach(t -> byName.put(t.name(), t));
        this.tensors = byName;
        this.names = List.copyOf(byName.keySet());
    }

    /**
     * Opens a file and validates its header, with the {@link #MAX_HEADER_BYTES} header limit.
     *
     * @throws SafetensorsException if the file is missing, unreadable or not a valid safetensors file
     */
    public static SafetensorsFile open(Path file) {
        return open(file, MAX_HEADER_BYTES);
    }

    /** Like {@link #open(Path)}, rejecting headers longer than {@code maxHeaderBytes} (at most 2 GiB - 9). */
    public static SafetensorsFile open(Path file, long maxHeaderBytes) {
        if (maxHeaderBytes < 0 || maxHeaderBytes > Integer.MAX_VALUE - LENGTH_PREFIX_BYTES) {
            throw new IllegalArgumentException("maxHeaderBytes must be between 0 and " + (Integer.MAX_VALUE - LENGTH_PREFIX_BYTES)
                    + ", got " + maxHeaderBytes);
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new SafetensorsException("Cannot read " + file + ": no such file; check the path.", e);
        } catch (IOException e) {
            throw new SafetensorsException("Cannot open " + file + " (" + e + "); check that it is a readable file.", e);
        }
        try {
            long fileSize = channel.size();
            if (fileSize < LENGTH_PREFIX_BYTES) {
                throw new SafetensorsException("Cannot read " + file + ": the file is only " + fileSize
                        + " bytes, shorter than the 8-byte header length every safetensors file starts with; "
                        + "it is empty or truncated. Download or export it again.");
            }
            ByteBuffer prefix = readFully(channel, 0, LENGTH_PREFIX_BYTES);
            long headerLength = prefix.order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            if (headerLength < 0 || headerLength > maxHeaderBytes) {
                throw new SafetensorsException("Cannot read " + file + ": huge header length " + Long.toUnsignedString(headerLength)
                        + " bytes (the limit is " + maxHeaderBytes + "); this is not a safetensors file, or its start is corrupt.");
            }
            if (LENGTH_PREFIX_BYTES + headerLength > fileSize) {
                throw new SafetensorsException("Cannot read " + file + ": its header length " + headerLength
                        + " runs past the end of the file (" + fileSize + " bytes); the file is truncated or not a safetensors file. "
                        + "Download or export it again.");
            }
            byte[] headerBytes = readFully(channel, LENGTH_PREFIX_BYTES, (int) headerLength).array();
            long dataStart = LENGTH_PREFIX_BYTES + headerLength;
            SafetensorsHeader header = SafetensorsHeader.parse(file, headerBytes, fileSize - dataStart);
            return new SafetensorsFile(file, channel, dataStart, header);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new SafetensorsException("Cannot read " + file + " (" + e + "); check the disk and try again.", e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    /** The file this was opened from. */
    public Path path() {
        return path;
    }

    /** The header's {@code __metadata__} string pairs (unmodifiable; empty when the header has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** All tensor names, in the order their data appears in the file. */
    public List<String> tensorNames() {
        return names;
    }

    /** Whether the file holds a tensor of that name. */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /**
     * The header entry of one tensor.
     *
     * @throws SafetensorsException if there is no such tensor; the message lists the nearest names
     */
    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new SafetensorsException("No tensor '" + name + "' in " + path + "; " + SimilarNames.describe(name, tensors.keySet())
                    + ". Check the name against the model's architecture.");
        }
        return info;
    }

    /**
     * One tensor's raw bytes: a read-only, little-endian buffer positioned at 0 whose
     * {@link ByteBuffer#remaining()} is {@link TensorInfo#byteLength()}. The region is memory-mapped on
     * first use and shared afterwards; each call returns an independent view of it.
     *
     * @throws SafetensorsException if there is no such tensor, it is 2 GiB or larger, or mapping fails
     * @throws IllegalStateException after {@link #close}
     */
    public ByteBuffer data(String name) {
        if (closed) {
            throw new IllegalStateException(path + " is closed; open it again to read tensor '" + name + "'");
        }
        TensorInfo info = info(name);
        ByteBuffer region = mapped.get(name);
        if (region == null) {
            region = map(info);
            ByteBuffer raced = mapped.putIfAbsent(name, region);
            region = raced != null ? raced : region;
        }
        return region.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    private ByteBuffer map(TensorInfo info) {
        if (info.byteLength() > Integer.MAX_VALUE) {
            throw new SafetensorsException("Cannot read tensor '" + info.name() + "' of " + path + ": it is " + info.byteLength()
                    + " bytes, and Scalpel reads each tensor into one buffer of at most 2 GiB (" + Integer.MAX_VALUE
                    + " bytes, a Java limit); this model is too large for Scalpel.");
        }
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + info.begin(), info.byteLength());
        } catch (IOException e) {
            throw new SafetensorsException("Cannot map tensor '" + info.name() + "' of " + path + " into memory (" + e
                    + "); check that the file is still there and the system has address space left.", e);
        }
    }

    /** Releases the file handle. Idempotent. */
    @Override
    public void close() {
        closed = true;
        closeQuietly(channel);
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }

    private static ByteBuffer readFully(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new EOFException("file ended at byte " + (position + buffer.position()));
            }
        }
        return buffer.flip();
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Nothing was written through this channel; a failing close loses nothing.
        }
    }
}
