package dev.scalpel.engine.api;

/**
 * A problem the user can fix: a missing file, a wrong shape, an unknown architecture, a NaN loss.
 * The message is one or two plain sentences naming the problem and the fix; the CLI and the
 * workbench show it as it is, without a stack trace.
 */
public class ScalpelException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ScalpelException(String message) {
        super(message);
    }

    public ScalpelException(String message, Throwable cause) {
        super(message, cause);
    }
}
