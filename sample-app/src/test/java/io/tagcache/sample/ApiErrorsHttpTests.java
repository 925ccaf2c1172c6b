package io.tagcache.sample;

import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Unknown ids answer 404 and bad bodies 400, as problem details that say what is wrong; a refused
 * change invalidates nothing.
 */
class ApiErrorsHttpTests extends SampleHttpTest {

	@ParameterizedTest
	@CsvSource(delimiter = '|', textBlock = """
			GET | /users/99                | No user 99
			GET | /users/by-mail/nobody@x  | No user with mail nobody@x
			GET | /locations/99/users      | No location 99
			PUT | /users/99                | No user 99
			PUT | /locations/99            | No location 99
			""")
	void unknownIdsAreNotFound(String method, String path, String detail) {
		this.http.method(HttpMethod.valueOf(method)).uri(path).contentType(MediaType.APPLICATION_JSON)
			.body("{\"mail\": \"x@y\", \"name\": \"X\"}")
			.exchange()
			.expectStatus().isNotFound()
			.expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
			.expectBody().jsonPath("$.detail").isEqualTo(detail);
	}

	static Stream<Arguments> badWebhookBodies() {
		return Stream.of(arguments("{\"type\": \"user\", \"id\": 1}", "must be a non-empty JSON array"),
				arguments("[]", "must be a non-empty JSON array"),
				arguments("[{\"type\": \"planet\", \"id\": 1}]",
						"Change 0: \"type\" must be \"user\" or \"location\", not \"planet\""),
				arguments("[{\"type\": \"user\"}]", "Change 0: \"id\" must be a positive integer, not missing"),
				arguments("[{\"type\": \"user\", \"id\": \"7\"}]", "Change 0: \"id\" must be a positive integer, not \"7\""),
				arguments("[{\"type\": \"user\", \"id\": 1}, {\"type\": \"location\", \"id\": -2}]",
						"Change 1: \"id\" must be a positive integer, not -2"),
				arguments("[42]", "Change 0: \"type\" must be \"user\" or \"location\", not missing"),
				arguments("[{\"type\": \"user\", \"id\": 1", "Unreadable JSON body"));
	}

	@ParameterizedTest
	@MethodSource("badWebhookBodies")
	void badWebhookBodiesAreRefusedWithAMessageAndInvalidateNothing(String body, String detail) {
		user("/users/1");
		this.sql.drain();

		post("/webhooks/content", body).expectStatus().isBadRequest()
			.expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
			.expectBody().jsonPath("$.detail").value(String.class, (message) -> assertThat(message).contains(detail));
		this.sql.drain();

		user("/users/1");
		assertThat(this.sql.drain()).isEmpty();
	}

	@ParameterizedTest
	@CsvSource(delimiter = '|', textBlock = """
			/users/1     | {}                       | 400 | Nothing to change: give "mail" and/or "locationId"
			/users/1     | {"mail": "nope"}         | 400 | "mail" must be an address such as foo@a, not "nope"
			/users/1     | {"locationId": 99}       | 400 | No location 99
			/users/1     | {"mail": "BAR@a"}        | 409 | Another user has this mail address
			/users/1     | {"locationId": "two"}    | 400 | Unreadable JSON body
			/locations/1 | {"name": " "}            | 400 | Give the new "name"
			""")
	void refusedChangesSayWhyAndInvalidateNothing(String path, String body, int status, String detail) {
		user("/users/1");
		this.sql.drain();

		put(path, body).expectStatus().isEqualTo(status)
			.expectBody().jsonPath("$.detail").value(String.class, (message) -> assertThat(message).startsWith(detail));
		this.sql.drain();

		assertThat(user("/users/1")).isEqualTo(new User(1, "foo@a", new Location(1, "Rome")));
		assertThat(this.sql.drain()).as("user 1 is still cached").isEmpty();
	}

	@Test
	void anIdThatIsNotANumberIsABadRequest() {
		this.http.get().uri("/users/one").exchange().expectStatus().isBadRequest();
	}

}
