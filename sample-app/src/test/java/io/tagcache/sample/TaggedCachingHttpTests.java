package io.tagcache.sample;

import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The three patterns of DESIGN.md and the content webhook, end to end: which requests reload from the
 * database after a change, and which are still served from Redis.
 */
class TaggedCachingHttpTests extends SampleHttpTest {

	/** tagcache.http.headers=xkey: what Varnish purges by (see sample-app/varnish/sample.vcl). */
	@Test
	void responsesCarryTheTagsOfTheEntriesTheyWereBuiltFrom() {
		this.http.get().uri("/users/1").exchange().expectHeader().valueEquals("xkey", "user-1 location-1");
		this.http.get().uri("/users/1").exchange().expectHeader().valueEquals("xkey", "user-1 location-1");
		this.http.get().uri("/locations/1/users").exchange().expectHeader().exists("xkey");
		this.http.get().uri("/actuator/health").exchange().expectHeader().doesNotExist("xkey");
	}

	@Test
	void aRepeatedReadIsServedFromRedis() {
		User first = user("/users/1");
		assertThat(this.sql.drain()).singleElement().asString().contains("FROM users u JOIN locations l");

		assertThat(user("/users/1")).isEqualTo(first).isEqualTo(new User(1, "foo@a", new Location(1, "Rome")));
		assertThat(this.sql.drain()).isEmpty();
	}

	@Test
	void changingAUserReloadsEveryVariantOfItAndNoOtherUser() {
		List<String> variants = List.of("/users/1", "/users/by-mail/foo@a", "/users/by-mail/FoO@a");
		variants.forEach(this::user);
		user("/users/2");
		assertThat(this.sql.drain()).hasSize(4);
		variants.forEach(this::user);
		user("/users/2");
		assertThat(this.sql.drain()).isEmpty();

		put("/users/1", "{\"locationId\": 2}").expectStatus().isOk();
		this.sql.drain();

		for (String variant : variants) {
			assertThat(user(variant).location()).isEqualTo(new Location(2, "Milan"));
			assertThat(this.sql.drain()).as("reloads of %s", variant).hasSize(1);
		}
		assertThat(user("/users/2").location().name()).isEqualTo("Rome");
		assertThat(this.sql.drain()).as("user 2 is still cached").isEmpty();
	}

	/**
	 * The lookup by mail caches users, not "no such user": nothing could invalidate a cached 404 when
	 * someone takes the address later.
	 */
	@Test
	void aNewMailIsFoundAndTheOldOneIsNot() {
		user("/users/by-mail/foo@a");
		this.http.get().uri("/users/by-mail/new@a").exchange().expectStatus().isNotFound();

		put("/users/1", "{\"mail\": \"New@a\"}").expectStatus().isOk();

		assertThat(user("/users/by-mail/new@a").id()).isEqualTo(1);
		this.http.get().uri("/users/by-mail/foo@a").exchange().expectStatus().isNotFound();
		assertThat(user("/users/1").mail()).isEqualTo("New@a");
	}

	@Test
	void renamingALocationReloadsTheUsersInItOnly() {
		for (long id = 1; id <= 4; id++) {
			user("/users/" + id);
		}
		userIds("/locations/1/users");
		userIds("/locations/2/users");
		this.sql.drain();

		put("/locations/1", "{\"name\": \"Roma\"}").expectStatus().isOk().expectBody(Location.class)
			.isEqualTo(new Location(1, "Roma"));
		this.sql.drain();

		assertThat(user("/users/1").location().name()).isEqualTo("Roma");
		assertThat(user("/users/2").location().name()).isEqualTo("Roma");
		assertThat(users("/locations/1/users")).extracting((user) -> user.location().name()).containsOnly("Roma");
		assertThat(this.sql.drain()).as("users 1 and 2 and the list of Roma reload").hasSize(4);

		assertThat(user("/users/3").location().name()).isEqualTo("Milan");
		assertThat(user("/users/4").location().name()).isEqualTo("Turin");
		userIds("/locations/2/users");
		assertThat(this.sql.drain()).as("users elsewhere are still cached").isEmpty();
	}

	@Test
	void movingAUserReloadsTheListsItLeftAndJoinedOnly() {
		assertThat(userIds("/locations/1/users")).containsExactly(1L, 2L);
		assertThat(userIds("/locations/2/users")).containsExactly(3L);
		assertThat(userIds("/locations/3/users")).containsExactly(4L);
		user("/users/3");
		this.sql.drain();

		put("/users/2", "{\"locationId\": 2}").expectStatus().isOk();
		this.sql.drain();

		assertThat(userIds("/locations/1/users")).containsExactly(1L);
		assertThat(userIds("/locations/2/users")).containsExactly(2L, 3L);
		assertThat(this.sql.drain()).as("both lists reload (location check and users each)").hasSize(4);

		assertThat(userIds("/locations/3/users")).containsExactly(4L);
		assertThat(user("/users/3").location().name()).isEqualTo("Milan");
		assertThat(this.sql.drain()).as("the third list and user 3 in the new location are still cached").isEmpty();
	}

	@Test
	void theWebhookDropsWhatTheCmsChangedInTheDatabase() {
		user("/users/1");
		user("/users/3");
		userIds("/locations/1/users");
		this.cms.sql("UPDATE locations SET name = 'Roma' WHERE id = 1").update();
		assertThat(user("/users/1").location().name()).as("stale until the CMS tells").isEqualTo("Rome");
		this.sql.drain();

		post("/webhooks/content", "[{\"type\": \"location\", \"id\": 1}]").expectStatus().isOk()
			.expectBody(Directory.Invalidation.class)
			.isEqualTo(new Directory.Invalidation(List.of("location-1"), 2, false));

		assertThat(user("/users/1").location().name()).isEqualTo("Roma");
		assertThat(users("/locations/1/users")).extracting((user) -> user.location().name()).containsOnly("Roma");
		user("/users/3");
		assertThat(this.sql.drain()).as("user 1 and the list reload, user 3 is a hit").hasSize(3);
	}

	/**
	 * A CMS says which user changed, not whether it moved: the webhook also drops the list of the
	 * location the user is in now (the list it left holds the user's tag).
	 */
	@Test
	void theWebhookForAUserReachesTheListOfItsNewLocation() {
		assertThat(userIds("/locations/2/users")).containsExactly(3L);
		assertThat(userIds("/locations/3/users")).containsExactly(4L);
		userIds("/locations/1/users");
		this.cms.sql("UPDATE users SET location_id = 2 WHERE id = 4").update();
		this.sql.drain();

		post("/webhooks/content", "[{\"type\": \"user\", \"id\": 4}]").expectStatus().isOk()
			.expectBody(Directory.Invalidation.class)
			.isEqualTo(new Directory.Invalidation(List.of("user-4", "users-in-location-2"), 2, false));

		assertThat(userIds("/locations/2/users")).containsExactly(3L, 4L);
		assertThat(userIds("/locations/3/users")).isEmpty();
		userIds("/locations/1/users");
		assertThat(this.sql.drain()).as("the webhook's lookup, both lists; location 1 is a hit").hasSize(5);
	}

	/** A "no such user" by id is cached, tagged with the id it was asked for. */
	@Test
	void aCachedNotFoundGoesWhenTheCmsCreatesTheUser() {
		this.http.get().uri("/users/5").exchange().expectStatus().isNotFound();
		this.http.get().uri("/users/5").exchange().expectStatus().isNotFound();
		assertThat(this.sql.drain()).as("the second 404 is a hit").hasSize(1);

		this.cms.sql("INSERT INTO users (id, mail, location_id) VALUES (5, 'new@d', 3)").update();
		post("/webhooks/content", "[{\"type\": \"user\", \"id\": 5}]").expectStatus().isOk();

		assertThat(user("/users/5")).isEqualTo(new User(5, "new@d", new Location(3, "Turin")));
	}

}
