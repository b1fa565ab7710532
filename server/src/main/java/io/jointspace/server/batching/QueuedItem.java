package io.jointspace.server.batching;

/**
 * One item waiting in a {@link Bucket}: the value, the request it belongs to and its position
 * there, and when it was queued (in {@link Ticker} nanoseconds).
 */
record QueuedItem<I, O>(Request<O> request, int index, I value, long enqueuedNanos) {}
