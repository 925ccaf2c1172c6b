package io.tagcache.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * One of the Lua scripts in {@code io/tagcache/redis/*.lua}, with the shared functions of
 * {@code lib.lua} prepended, and its SHA-1 digest for {@code EVALSHA}.
 */
enum TagCacheScript {

	PUT("put.lua"),

	PUT_RECORDS("put-records.lua"),

	PUT_CHECKED("put-checked.lua"),

	EVICT("evict.lua"),

	INVALIDATE("invalidate.lua"),

	DRAIN("drain.lua"),

	FENCE_CACHE("fence-cache.lua"),

	REMOVE_ENTRIES("remove-entries.lua"),

	INIT_FENCE("init-fence.lua"),

	REGISTER("register.lua"),

	ABANDONED_DRAINS("abandoned-drains.lua"),

	SOFT_INVALIDATE("soft-invalidate.lua"),

	SOFT_DRAIN("soft-drain.lua"),

	ABANDONED_SOFT_DRAINS("abandoned-soft-drains.lua"),

	LEASE("lease.lua"),

	RELEASE_LEASE("release-lease.lua");

	private final byte[] source;

	private final String sha1;

	TagCacheScript(String resource) {
		String text = read("lib.lua") + "\n" + read(resource);
		this.source = text.getBytes(StandardCharsets.UTF_8);
		this.sha1 = sha1(this.source);
	}

	byte[] source() {
		return this.source;
	}

	String sha1() {
		return this.sha1;
	}

	private static String read(String resource) {
		try (InputStream in = TagCacheScript.class.getResourceAsStream(resource)) {
			if (in == null) {
				throw new IllegalStateException("Lua script " + resource + " is missing from the classpath");
			}
			return new String(in.readAllBytes(), StandardCharsets.UTF_8);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot read Lua script " + resource, ex);
		}
	}

	private static String sha1(byte[] source) {
		try {
			return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(source));
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException("SHA-1 is not available", ex);
		}
	}

}
