package io.tagcache.sample;

import java.util.List;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeEach;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.cache.Cache;
import org.springframework.cache.CacheManager;
import org.springframework.context.annotation.Import;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.core.io.ClassPathResource;
import org.springframework.http.MediaType;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * The sample over real HTTP on a random port, against real Redis (the embedded server the application
 * starts) and its H2 database. Each test starts from the seeded database and empty caches, and reads
 * {@link #sql} to tell a reload (statements executed) from a hit (none).
 *
 * <p>Subclasses that declare no other configuration share one application context.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureRestTestClient
@Import(SqlStatementLog.class)
abstract class SampleHttpTest {

	@Autowired
	RestTestClient http;

	@Autowired
	SqlStatementLog sql;

	@Autowired
	DataSource dataSource;

	@Autowired
	CacheManager cacheManager;

	/** Changes the database behind the application's back, as the content-management system does. */
	JdbcClient cms;

	@BeforeEach
	void startFromTheSeededDatabaseAndEmptyCaches() {
		new ResourceDatabasePopulator(new ClassPathResource("schema.sql"), new ClassPathResource("data.sql"))
			.execute(this.dataSource);
		for (String name : this.cacheManager.getCacheNames()) {
			Cache cache = this.cacheManager.getCache(name);
			if (cache != null) {
				cache.clear();
			}
		}
		this.cms = JdbcClient.create(this.dataSource);
		this.sql.drain();
	}

	User user(String path) {
		return this.http.get().uri(path).exchange().expectStatus().isOk().expectBody(User.class).returnResult()
			.getResponseBody();
	}

	List<User> users(String path) {
		return this.http.get().uri(path).exchange().expectStatus().isOk()
			.expectBody(new ParameterizedTypeReference<List<User>>() {
			})
			.returnResult()
			.getResponseBody();
	}

	List<Long> userIds(String path) {
		return users(path).stream().map(User::id).toList();
	}

	RestTestClient.ResponseSpec put(String path, String json) {
		return this.http.put().uri(path).contentType(MediaType.APPLICATION_JSON).body(json).exchange();
	}

	RestTestClient.ResponseSpec post(String path, String json) {
		return this.http.post().uri(path).contentType(MediaType.APPLICATION_JSON).body(json).exchange();
	}

	/** A counter of {@code /actuator/metrics/{meter}}, filtered by tags such as {@code "name:users"}. */
	double count(String meter, String... tags) {
		StringBuilder uri = new StringBuilder("/actuator/metrics/").append(meter);
		for (int i = 0; i < tags.length; i++) {
			uri.append((i == 0) ? "?" : "&").append("tag=").append(tags[i]);
		}
		Metric metric = this.http.get().uri(uri.toString()).exchange().expectStatus().isOk()
			.expectBody(Metric.class).returnResult().getResponseBody();
		return metric.measurements().stream().filter((measurement) -> measurement.statistic().equals("COUNT"))
			.findFirst().orElseThrow().value();
	}

	/** The part of {@code /actuator/metrics/{name}} read here. */
	record Metric(List<Measurement> measurements) {

		record Measurement(String statistic, double value) {
		}

	}

}
