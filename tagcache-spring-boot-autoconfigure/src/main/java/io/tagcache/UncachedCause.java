package io.tagcache;

/**
 * Why a result was returned without being cached, or a stored entry was read as a miss: the
 * bounded set of values of the {@code cause} tag of the {@code tagcache.uncached} meter. A cache
 * never turns a working call into an error; these are the mistakes it reports instead.
 */
public enum UncachedCause {

	/** A {@code tags} expression failed, yielded something other than text, or concatenated a {@code null}. */
	TAG_EXPRESSION("tag-expression"),

	/** The {@code unless} expression failed or did not yield a boolean. */
	UNLESS_EXPRESSION("unless-expression"),

	/** Tags could not be derived from the result, e.g. a {@code @TagEntity} with a {@code null} id. */
	ENTITY_ID("entity-id"),

	/** A tag was blank, too long or held a control character. */
	INVALID_TAG("invalid-tag"),

	/** The result was {@code null} and the cache does not store {@code null} values. */
	NULL_NOT_CACHED("null-not-cached"),

	/** The value cannot be written as JSON. */
	NOT_SERIALIZABLE("not-serializable"),

	/**
	 * A value for untyped reads (Spring's {@code @Cacheable}) of a type outside the allow-list: refused
	 * when written, and read as a miss when found.
	 */
	DISALLOWED_TYPE("disallowed-type"),

	/** The value is written as JSON that cannot be read back as its type (it would miss forever). */
	NOT_READABLE("not-readable"),

	/** The cache refused the entry for a reason of its own. */
	CACHE_REFUSED("cache-refused");

	private final String tagValue;

	UncachedCause(String tagValue) {
		this.tagValue = tagValue;
	}

	/**
	 * Return the value of the meter's {@code cause} tag.
	 * @return the value, such as {@code tag-expression}
	 */
	public String tagValue() {
		return this.tagValue;
	}

}
