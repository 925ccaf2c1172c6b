package io.tagcache.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.data.jdbc.core.convert.QueryMappingConfiguration;
import org.springframework.data.jdbc.repository.config.DefaultQueryMappingConfiguration;

/**
 * A web service of users and their locations, cached with tags on Redis. Without a configured Redis
 * it starts an embedded one (see {@code io.tagcache.sample.redis}).
 */
@SpringBootApplication
public class SampleApplication {

	public static void main(String[] args) {
		SpringApplication.run(SampleApplication.class, args);
	}

	/** Reads a user joined with its location ({@link UserRepository#SELECT_USER}). */
	@Bean
	QueryMappingConfiguration rowMappers() {
		return new DefaultQueryMappingConfiguration().registerRowMapper(User.class,
				(row, number) -> new User(row.getLong("id"), row.getString("mail"),
						new Location(row.getLong("location_id"), row.getString("location_name"))));
	}

}
