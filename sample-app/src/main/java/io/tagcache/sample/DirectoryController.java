package io.tagcache.sample;

import java.util.List;

import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpStatus;
import org.springframework.util.StringUtils;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

/**
 * The HTTP API of users and locations; all the caching happens in {@link Directory}.
 */
@RestController
class DirectoryController {

	private final Directory directory;

	DirectoryController(Directory directory) {
		this.directory = directory;
	}

	@GetMapping("/users/{id}")
	User user(@PathVariable long id) {
		return this.directory.user(id).orElseThrow(() -> notFound("No user " + id));
	}

	@GetMapping("/users/by-mail/{mail}")
	User userByMail(@PathVariable String mail) {
		return this.directory.userByMail(mail).orElseThrow(() -> notFound("No user with mail " + mail));
	}

	@GetMapping("/locations/{id}/users")
	List<User> usersIn(@PathVariable long id) {
		return this.directory.usersIn(id).orElseThrow(() -> notFound("No location " + id));
	}

	@PutMapping("/users/{id}")
	User updateUser(@PathVariable long id, @RequestBody UserChange change) {
		if (change.mail() == null && change.locationId() == null) {
			throw badRequest("Nothing to change: give \"mail\" and/or \"locationId\"");
		}
		if (change.mail() != null && !change.mail().matches("[^@\\s]+@[^@\\s]+")) {
			throw badRequest("\"mail\" must be an address such as foo@a, not \"" + change.mail() + "\"");
		}
		return this.directory.updateUser(id, change.mail(), change.locationId())
			.orElseThrow(() -> notFound("No user " + id));
	}

	@PutMapping("/locations/{id}")
	Location renameLocation(@PathVariable long id, @RequestBody LocationChange change) {
		if (!StringUtils.hasText(change.name())) {
			throw badRequest("Give the new \"name\"");
		}
		return this.directory.renameLocation(id, change.name().strip()).orElseThrow(() -> notFound("No location " + id));
	}

	static ResponseStatusException notFound(String message) {
		return new ResponseStatusException(HttpStatus.NOT_FOUND, message);
	}

	static ResponseStatusException badRequest(String message) {
		return new ResponseStatusException(HttpStatus.BAD_REQUEST, message);
	}

	/** The body of {@code PUT /users/{id}}: either field may be left out. */
	record UserChange(@Nullable String mail, @Nullable Long locationId) {
	}

	/** The body of {@code PUT /locations/{id}}. */
	record LocationChange(@Nullable String name) {
	}

}
