package io.tagcache.http;

import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Each vendor's header syntax and limits, and the encoding of tags: never a truncated list.
 */
class CacheTagHeaderTests {

	@Test
	void eachVendorHasItsSeparator() {
		List<String> tags = List.of("user-1", "loc-2");
		assertThat(CacheTagHeader.SURROGATE_KEY.value(tags)).isEqualTo("user-1 loc-2");
		assertThat(CacheTagHeader.XKEY.value(tags)).isEqualTo("user-1 loc-2");
		assertThat(CacheTagHeader.CACHE_TAG.value(tags)).isEqualTo("user-1,loc-2");
		assertThat(CacheTagHeader.EDGE_CACHE_TAG.value(tags)).isEqualTo("user-1,loc-2");
	}

	@Test
	void akamaiTakes128TagsOf128CharactersAndNoMore() {
		List<String> fits = IntStream.range(0, 128).mapToObj(i -> "t" + i).toList();
		assertThat(CacheTagHeader.EDGE_CACHE_TAG.value(fits)).isNotNull();
		List<String> tooMany = IntStream.range(0, 129).mapToObj(i -> "t" + i).toList();
		assertThat(CacheTagHeader.EDGE_CACHE_TAG.value(tooMany)).isNull();
		assertThat(CacheTagHeader.EDGE_CACHE_TAG.value(List.of("x".repeat(128)))).isNotNull();
		assertThat(CacheTagHeader.EDGE_CACHE_TAG.value(List.of("x".repeat(129)))).isNull();
	}

	@Test
	void fastlyAndCloudflareStopAt16KiBAndFastlyKeysAt1KiB() {
		// 1,600 tags of 9 characters and a separator: 16,000 bytes, then one more is over 16 KiB
		List<String> fits = IntStream.range(0, 1600).mapToObj(i -> "tag-%05d".formatted(i)).toList();
		assertThat(CacheTagHeader.SURROGATE_KEY.value(fits)).hasSizeLessThanOrEqualTo(16 * 1024);
		assertThat(CacheTagHeader.CACHE_TAG.value(fits)).isNotNull();
		List<String> over = IntStream.range(0, 1700).mapToObj(i -> "tag-%05d".formatted(i)).toList();
		assertThat(CacheTagHeader.SURROGATE_KEY.value(over)).isNull();
		assertThat(CacheTagHeader.CACHE_TAG.value(over)).isNull();
		assertThat(CacheTagHeader.SURROGATE_KEY.value(List.of("k".repeat(1025)))).isNull();
	}

	@Test
	void varnishStaysUnderItsDefaultResponseHeaderLength() {
		List<String> over = IntStream.range(0, 900).mapToObj(i -> "tag-%05d".formatted(i)).toList();
		assertThat(CacheTagHeader.XKEY.value(over)).as("9,000 bytes: over http_resp_hdr_len").isNull();
		assertThat(CacheTagHeader.XKEY.value(over.subList(0, 700))).isNotNull();
	}

	@Test
	void tagsAreEncodedSoThatSeparatorsAndNonAsciiCharactersCannotSplitThem() {
		assertThat(CacheTagHeader.encode("user-1")).isEqualTo("user-1");
		assertThat(CacheTagHeader.encode("mail:foo@a")).isEqualTo("mail:foo@a");
		assertThat(CacheTagHeader.encode("a b,c")).isEqualTo("a%20b%2Cc");
		assertThat(CacheTagHeader.encode("città")).isEqualTo("citt%C3%A0");
		assertThat(CacheTagHeader.encode("100%")).isEqualTo("100%25");
	}

	@Test
	void anUnknownHeaderNamesTheAcceptedOnes() {
		assertThat(CacheTagHeader.of(" XKey ")).isEqualTo(CacheTagHeader.XKEY);
		assertThatIllegalArgumentException().isThrownBy(() -> CacheTagHeader.of("x-cache-tags"))
			.withMessageContaining("'x-cache-tags'")
			.withMessageContaining("surrogate-key (Fastly), cache-tag (Cloudflare), xkey (Varnish) or edge-cache-tag (Akamai)");
	}

}
