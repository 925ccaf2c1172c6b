package io.tagcache.interceptor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import io.tagcache.annotation.TagEntity;
import io.tagcache.annotation.TagId;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * Tag extraction from object graphs: what is walked, what is not, and how ids are found.
 */
class TagExtractorTests {

	private final TagExtractor extractor = new TagExtractor(List.of());

	@Test
	void tagsTheValueAndEveryEntityInItsRecordComponents() {
		User user = new User(1, "foo@a", new Location(7, "Rome"));
		assertThat(this.extractor.extract(user)).containsExactly("user-1", "loc-7");
	}

	@Test
	void walksCollectionsArraysMapValuesAndOptionals() {
		Location rome = new Location(1, "Rome");
		Object graph = Map.of("key", List.of(Optional.of(new User(1, "a", rome)),
				new Object[] { new User(2, "b", rome), null }, Set.of(new Location(3, "Milano"))));
		assertThat(this.extractor.extract(graph)).containsExactlyInAnyOrder("user-1", "user-2", "loc-1", "loc-3");
	}

	@Test
	void mapKeysAreNotWalked() {
		assertThat(this.extractor.extract(Map.of(new Location(1, "Rome"), "x"))).isEmpty();
	}

	@Test
	void cyclesEnd() {
		Node first = new Node("a");
		Node second = new Node("b");
		first.next = second;
		second.next = first;
		first.friends.add(first);
		assertThat(this.extractor.extract(first)).containsExactlyInAnyOrder("node-a", "node-b");
	}

	@Test
	void longChainsDoNotOverflowTheStack() {
		Node head = new Node("0");
		Node current = head;
		for (int i = 1; i < 100_000; i++) {
			current.next = new Node(String.valueOf(i));
			current = current.next;
		}
		assertThat(this.extractor.extract(head)).hasSize(100_000).contains("node-99999");
	}

	@Test
	void typesThatAreNotEntitiesAreNotWalked() {
		Wrapper wrapper = new Wrapper(new User(1, "a", new Location(1, "Rome")));
		assertThat(this.extractor.extract(wrapper)).isEmpty();
		assertThat(this.extractor.extract(new Thread(() -> { }))).isEmpty();
	}

	@Test
	void idComesFromTagIdOnAFieldAMethodOrARecordComponent() {
		assertThat(this.extractor.extract(new Book("978-3", "Title"))).containsExactly("book-978-3");
		assertThat(this.extractor.extract(new Country())).containsExactly("country-IT");
		assertThat(this.extractor.extract(new Account(42L))).containsExactly("account-42");
	}

	@Test
	void idDefaultsToAGetterOrFieldNamedId() {
		assertThat(this.extractor.extract(new Bean(5))).containsExactly("bean-5");
	}

	@Test
	void subclassesOfEntitiesAreTaggedToo() {
		assertThat(this.extractor.extract(new SpecialAccount(9L))).containsExactly("account-9");
	}

	@Test
	void anEntityWithoutIdCannotBeTagged() {
		assertThatIllegalStateException().isThrownBy(() -> this.extractor.extract(new NoId()))
			.withMessageContaining(NoId.class.getName())
			.withMessageContaining("no member annotated @TagId");
	}

	@Test
	void anEntityWithANullIdCannotBeTagged() {
		assertThatIllegalStateException().isThrownBy(() -> this.extractor.extract(new Account(null)))
			.withMessageContaining("null id");
	}

	@Test
	void resolversTagTypesThatCannotBeAnnotated() {
		TagExtractor extractor = new TagExtractor(List.of(
				(value) -> (value instanceof Wrapper wrapper) ? List.of("wrapper-" + wrapper.user.id()) : List.of(),
				(value) -> (value instanceof String) ? List.of("never") : List.of()));
		assertThat(extractor.extract(List.of(new Wrapper(new User(1, "a", new Location(1, "Rome"))), "text")))
			.containsExactly("wrapper-1");
	}

	@TagEntity("loc")
	record Location(long id, String name) {
	}

	@TagEntity("user")
	record User(long id, String mail, Location location) {
	}

	@TagEntity("book")
	record Book(@TagId String isbn, String title) {
	}

	@TagEntity("country")
	static class Country {

		@TagId
		String code() {
			return "IT";
		}

	}

	@TagEntity("account")
	static class Account {

		@TagId
		private final Long number;

		Account(Long number) {
			this.number = number;
		}

	}

	static class SpecialAccount extends Account {

		SpecialAccount(Long number) {
			super(number);
		}

	}

	@TagEntity("bean")
	static class Bean {

		private final long id;

		Bean(long id) {
			this.id = id;
		}

		public long getId() {
			return this.id;
		}

	}

	@TagEntity("node")
	static class Node {

		@TagId
		final String name;

		Node next;

		final List<Node> friends = new ArrayList<>();

		Node(String name) {
			this.name = name;
		}

	}

	@TagEntity("none")
	static class NoId {

	}

	record Wrapper(User user) {
	}

}
