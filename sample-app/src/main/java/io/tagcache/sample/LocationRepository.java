package io.tagcache.sample;

import java.util.Optional;

import org.springframework.data.jdbc.repository.query.Modifying;
import org.springframework.data.jdbc.repository.query.Query;
import org.springframework.data.repository.Repository;
import org.springframework.transaction.annotation.Transactional;

/**
 * Locations.
 */
public interface LocationRepository extends Repository<Location, Long> {

	@Query("SELECT id, name FROM locations WHERE id = :id")
	Optional<Location> findById(long id);

	@Query("SELECT COUNT(*) > 0 FROM locations WHERE id = :id")
	boolean existsById(long id);

	@Modifying
	@Transactional
	@Query("UPDATE locations SET name = :name WHERE id = :id")
	boolean rename(long id, String name);

}
