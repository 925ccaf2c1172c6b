package io.tagcache.sample;

import java.util.List;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

import org.springframework.data.jdbc.repository.query.Modifying;
import org.springframework.data.jdbc.repository.query.Query;
import org.springframework.data.repository.Repository;
import org.springframework.transaction.annotation.Transactional;

/**
 * Users, with their location joined in. A location is an aggregate of its own (many users share it), so
 * every query is written out and its rows are mapped by {@link SampleApplication#rowMappers()}.
 */
public interface UserRepository extends Repository<User, Long> {

	String SELECT_USER = """
			SELECT u.id, u.mail, l.id AS location_id, l.name AS location_name
			FROM users u JOIN locations l ON l.id = u.location_id
			""";

	@Query(SELECT_USER + "WHERE u.id = :id")
	Optional<User> findById(long id);

	/** Case-insensitive: {@code mail_key} is {@code LOWER(mail)}, with a unique index. */
	@Query(SELECT_USER + "WHERE u.mail_key = LOWER(:mail)")
	Optional<User> findByMail(String mail);

	@Query(SELECT_USER + "WHERE u.location_id = :locationId ORDER BY u.id")
	List<User> findByLocationId(long locationId);

	@Query("SELECT location_id FROM users WHERE id = :id")
	Optional<Long> findLocationId(long id);

	/** Changes the mail and/or the location; a {@code null} leaves the column as it is. */
	@Modifying
	@Transactional
	@Query("""
			UPDATE users SET mail = COALESCE(:mail, mail), location_id = COALESCE(:locationId, location_id)
			WHERE id = :id
			""")
	boolean update(long id, @Nullable String mail, @Nullable Long locationId);

}
