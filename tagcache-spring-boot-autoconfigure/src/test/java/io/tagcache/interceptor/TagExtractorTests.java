package io.tagcache.interceptor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.JsonBackReference;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonIgnoreType;
import com.fasterxml.jackson.annotation.JsonManagedReference;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import io.tagcache.annotation.TagEntity;
import io.tagcache.annotation.TagId;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import org.springframework.data.domain.PageImpl;
import org.springframework.data.util.Pair;

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
	void jdkTypesAndEnumsAreNotWalked() {
		assertThat(this.extractor.extract(new Thread(() -> { }))).isEmpty();
		assertThat(this.extractor.extract(List.of(Role.ADMIN, Role.GUEST))).isEmpty();
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
			.containsExactlyInAnyOrder("wrapper-1", "user-1", "loc-1");
	}

	@Test
	void recordsThatAreNotEntitiesAreWalked() {
		Page<User> page = new Page<>(List.of(new User(1, "a", new Location(7, "Rome")), new User(2, "b", null)), 2);
		assertThat(this.extractor.extract(page)).containsExactlyInAnyOrder("user-1", "loc-7", "user-2");
	}

	@Test
	void unwrappedAndExplicitlyNamedPropertiesAreWalked() {
		Unwrapping unwrapping = new Unwrapping(new Page<>(List.of(new User(1, "a", null)), 1), new User(2, "b", null));
		assertThat(this.extractor.extract(unwrapping)).containsExactlyInAnyOrder("user-1", "user-2");
	}

	@Test
	void mapValuesAreWalkedWhateverTheirKeys() {
		Location rome = new Location(7, "Rome");
		Team team = new Team("core", Map.of("lead", new User(1, "a", rome)),
				Map.of(new Location(8, "Key"), new User(2, "b", null), List.of("composite"), new User(3, "c", null)));
		assertThat(this.extractor.extract(team)).containsExactlyInAnyOrder("user-1", "loc-7", "user-2", "user-3");
	}

	@Test
	void beansAreWalkedThroughTheGettersJacksonCalls() {
		Report report = new Report(new Summary(Optional.of(new User(1, "a", null)), new User[] { new User(2, "b", null) }),
				new User(3, "hidden", null));
		assertThat(this.extractor.extract(report)).containsExactlyInAnyOrder("user-1", "user-2");
	}

	@Test
	void optionalsAndArraysInsideDtosAreWalked() {
		Summary empty = new Summary(Optional.empty(), new User[] { null, new User(4, "d", new Location(9, "Pisa")) });
		assertThat(this.extractor.extract(List.of(empty))).containsExactlyInAnyOrder("user-4", "loc-9");
	}

	@Test
	void propertiesJacksonDoesNotWriteAddNoTags() {
		User user = new User(1, "a", null);
		Ignoring ignoring = new Ignoring(user, new User(2, "b", null), new User(3, "c", null),
				new Hidden(new User(4, "d", null)));
		ignoring.transientUser = new User(5, "e", null);
		assertThat(this.extractor.extract(ignoring)).containsExactly("user-1");
	}

	@Test
	void backReferencesAreNotWalked() {
		Folder root = new Folder(new User(1, "owner", null));
		Folder child = new Folder(new User(2, "other", null));
		root.children.add(child);
		child.parent = root;
		assertThat(this.extractor.extract(child)).containsExactly("user-2");
		assertThat(this.extractor.extract(root)).containsExactlyInAnyOrder("user-1", "user-2");
	}

	@Test
	void cyclesThroughDtosEnd() {
		Ring first = new Ring(new User(1, "a", null));
		Ring second = new Ring(new User(2, "b", null));
		first.next = second;
		second.next = first;
		assertThat(this.extractor.extract(first)).containsExactlyInAnyOrder("user-1", "user-2");
	}

	@Test
	void theMapperThatWritesTheValueDecidesWhatIsWalked() {
		Fields fields = new Fields(new User(1, "a", null));
		assertThat(this.extractor.extract(fields)).isEmpty();
		JsonMapper allFields = JsonMapper.builder()
			.changeDefaultVisibility((visibility) -> visibility.withFieldVisibility(JsonAutoDetect.Visibility.ANY))
			.build();
		assertThat(new TagExtractor(List.of(), allFields).extract(fields)).containsExactly("user-1");
	}

	@Test
	void jsonTreesAreWalkedAsData() {
		ObjectNode tree = JsonNodeFactory.instance.objectNode();
		tree.putPOJO("user", new User(1, "a", null));
		tree.putArray("more").addPOJO(new Page<>(List.of(new User(2, "b", null)), 1)).add("text");
		assertThat(this.extractor.extract(tree)).containsExactlyInAnyOrder("user-1", "user-2");
	}

	@Test
	void frameworkTypesAreNotReflectedIntoButTheirElementsAreWalked() {
		User user = new User(1, "a", null);
		assertThat(this.extractor.extract(Pair.of(user, user))).isEmpty();
		assertThat(this.extractor.extract(new PageImpl<>(List.of(user)))).containsExactly("user-1");
	}

	@Test
	void aGetterThatThrowsFailsTheExtraction() {
		assertThatIllegalStateException().isThrownBy(() -> this.extractor.extract(List.of(new Throwing())))
			.withMessageContaining("'user'")
			.withMessageContaining(Throwing.class.getName())
			.withMessageContaining("not loaded");
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
		public final String name;

		public Node next;

		public final List<Node> friends = new ArrayList<>();

		Node(String name) {
			this.name = name;
		}

	}

	@TagEntity("none")
	static class NoId {

	}

	record Wrapper(User user) {
	}

	record Page<T>(List<T> items, long total) {
	}

	enum Role {

		ADMIN {

			@Override
			public User getOwner() {
				return new User(1, "root", null);
			}

		},

		GUEST;

		public User getOwner() {
			return null;
		}

	}

	static class Unwrapping {

		@JsonUnwrapped
		public final Page<User> page;

		@JsonProperty
		private final User named;

		Unwrapping(Page<User> page, User named) {
			this.page = page;
			this.named = named;
		}

	}

	record Team(String name, Map<String, User> members, Map<Object, User> byAnything) {
	}

	record Summary(Optional<User> owner, User[] others) {
	}

	static class Report {

		private final Summary summary;

		private final User notAProperty;

		Report(Summary summary, User notAProperty) {
			this.summary = summary;
			this.notAProperty = notAProperty;
		}

		public Summary getSummary() {
			return this.summary;
		}

	}

	@JsonIgnoreProperties("ignoredByClass")
	static class Ignoring {

		public final User kept;

		@JsonIgnore
		public final User ignored;

		public final User ignoredByClass;

		public final Hidden hidden;

		public transient User transientUser;

		Ignoring(User kept, User ignored, User ignoredByClass, Hidden hidden) {
			this.kept = kept;
			this.ignored = ignored;
			this.ignoredByClass = ignoredByClass;
			this.hidden = hidden;
		}

	}

	@JsonIgnoreType
	record Hidden(User user) {
	}

	static class Folder {

		public final User owner;

		@JsonManagedReference
		public final List<Folder> children = new ArrayList<>();

		@JsonBackReference
		public Folder parent;

		Folder(User owner) {
			this.owner = owner;
		}

	}

	static class Ring {

		public final User user;

		public Ring next;

		Ring(User user) {
			this.user = user;
		}

	}

	static class Fields {

		private final User user;

		Fields(User user) {
			this.user = user;
		}

	}

	static class Throwing {

		public User getUser() {
			throw new IllegalStateException("not loaded");
		}

	}

}
