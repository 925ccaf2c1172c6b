package io.tagcache.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * Dependencies flow one way, toward the core API in {@code io.tagcache}, and packages form no
 * cycles.
 */
class ArchitectureTests {

	private final JavaClasses classes = new ClassFileImporter()
		.withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
		.importPackages("io.tagcache");

	@Test
	void packagesFormNoCycles() {
		slices().matching("io.tagcache.(*)..").should().beFreeOfCycles().check(this.classes);
	}

	@Test
	void theCoreApiDependsOnNoImplementation() {
		noClasses().that()
			.resideInAPackage("io.tagcache")
			.should()
			.dependOnClassesThat()
			.resideInAnyPackage("io.tagcache.redis..", "io.tagcache.interceptor..", "io.tagcache.metrics..",
					"io.tagcache.actuate..", "io.tagcache.autoconfigure..", "io.lettuce..")
			.check(this.classes);
	}

	@Test
	void onlyTheRedisPackageTalksToRedis() {
		noClasses().that()
			.resideOutsideOfPackages("io.tagcache.redis..", "io.tagcache.autoconfigure..", "io.tagcache.actuate..")
			.should()
			.dependOnClassesThat()
			.resideInAnyPackage("io.lettuce..", "org.springframework.data.redis..")
			.check(this.classes);
	}

	@Test
	void micrometerAndActuatorStayInTheirPackages() {
		noClasses().that()
			.resideOutsideOfPackages("io.tagcache.metrics..", "io.tagcache.autoconfigure..")
			.should()
			.dependOnClassesThat()
			.resideInAnyPackage("io.micrometer..", "org.springframework.boot.cache.metrics..")
			.check(this.classes);
		noClasses().that()
			.resideOutsideOfPackages("io.tagcache.actuate..", "io.tagcache.autoconfigure..")
			.should()
			.dependOnClassesThat()
			.resideInAnyPackage("org.springframework.boot.actuate..", "org.springframework.boot.health..")
			.check(this.classes);
	}

	@Test
	void thePurgeSideIsPlainJdkHttp() {
		noClasses().that()
			.resideInAPackage("io.tagcache.http")
			.should()
			.dependOnClassesThat()
			.resideInAnyPackage("org.springframework.web..", "org.springframework.boot..", "io.micrometer..",
					"io.lettuce..", "org.springframework.data.redis..", "io.tagcache.redis..", "io.tagcache.autoconfigure..")
			.check(this.classes);
	}

}
