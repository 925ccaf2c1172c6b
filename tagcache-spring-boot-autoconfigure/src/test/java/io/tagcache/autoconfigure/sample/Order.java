package io.tagcache.autoconfigure.sample;

/** A type of the application's own package. */
public record Order(long id, String item) {

}
