package io.tagcache.interceptor;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * Keeps the annotation layer's dependencies pointing one way: the annotations depend on nothing else
 * of tagcache, and the interceptor on the core API and the annotations, never on the Redis engine.
 * The project-wide rules (no cycles, the core depends on no implementation) are in
 * {@code io.tagcache.architecture.ArchitectureTests}.
 */
class AnnotationPackagesArchitectureTests {

	private final JavaClasses classes = new ClassFileImporter()
		.withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
		.importPackages("io.tagcache");

	@Test
	void annotationsDependOnNothingElseOfTagcache() {
		noClasses().that()
			.resideInAPackage("io.tagcache.annotation..")
			.should()
			.dependOnClassesThat()
			.resideInAnyPackage("io.tagcache", "io.tagcache.interceptor..", "io.tagcache.redis..")
			.check(this.classes);
	}

	@Test
	void interceptorDoesNotDependOnTheRedisEngine() {
		noClasses().that()
			.resideInAPackage("io.tagcache.interceptor..")
			.should()
			.dependOnClassesThat()
			.resideInAPackage("io.tagcache.redis..")
			.check(this.classes);
	}

}
