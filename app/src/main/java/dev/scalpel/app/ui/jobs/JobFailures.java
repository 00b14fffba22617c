package dev.scalpel.app.ui.jobs;

import dev.scalpel.engine.api.ScalpelException;
import java.util.concurrent.CancellationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a failed job hands its view: a {@link ScalpelException} or a cancel as they are (their one line is the message
 * for the user); anything else is a bug, logged with its stack trace and handed on as a one-line internal error that
 * names the job and the exception, never "error: null".
 */
final class JobFailures {
    private static final Logger LOG = LoggerFactory.getLogger(JobFailures.class);

    private JobFailures() {}

    static Throwable reported(String jobTitle, Throwable failure) {
        if (failure instanceof ScalpelException || failure instanceof CancellationException) {
            return failure;
        }
        LOG.error("Internal error in job '{}'", jobTitle, failure);
        return new ScalpelException("Internal error in '" + jobTitle + "': " + failure.getClass().getSimpleName()
                + (failure.getMessage() != null ? ": " + failure.getMessage() : "") + " (the log has the details; please report it).",
                failure);
    }
}
