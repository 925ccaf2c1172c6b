package io.tagcache.sample.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import org.springframework.beans.factory.BeanCreationException;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * When the embedded Redis server starts, and that it stops with its application. Runs plain Spring
 * applications without any bean, so that only the post-processor is at work.
 */
@ExtendWith(OutputCaptureExtension.class)
class EmbeddedRedisEnvironmentPostProcessorTests {

	@Test
	void withoutAConfiguredRedisAnEmbeddedServerRunsAsLongAsTheApplication(CapturedOutput output) throws IOException {
		int port;
		try (ConfigurableApplicationContext context = application(NoBeans.class).run()) {
			port = context.getEnvironment().getRequiredProperty("spring.data.redis.port", Integer.class);
			assertThat(context.getEnvironment().getProperty("spring.data.redis.host")).isEqualTo("127.0.0.1");
			assertThat(context.getBean(EmbeddedRedisServer.class).port()).isEqualTo(port);
			assertThat(ping(port)).isEqualTo("+PONG");
			assertThat(output).contains("started an embedded Redis server on 127.0.0.1:" + port);
		}
		assertThatExceptionOfType(ConnectException.class).isThrownBy(() -> ping(port));
		assertThat(output).contains("Stopped the embedded Redis server on 127.0.0.1:" + port);
	}

	@Test
	void theServerStopsWhenTheApplicationFailsToStart() {
		assertThatExceptionOfType(BeanCreationException.class).isThrownBy(() -> application(FailingBean.class).run())
			.havingRootCause()
			.withMessage("Failing on purpose");
		assertThat(FailingBean.redisPort).isPositive();
		assertThatExceptionOfType(ConnectException.class).isThrownBy(() -> ping(FailingBean.redisPort));
	}

	@ParameterizedTest
	@CsvSource(delimiter = '|', textBlock = """
			spring.data.redis.url           | redis://app:secret@redis.example:6379 | spring.data.redis.url=redis://app:*****@redis.example:6379
			spring.data.redis.host          | redis.example                         | spring.data.redis.host=redis.example
			spring.data.redis.port          | 6380                                  | spring.data.redis.port=6380
			spring.data.redis.cluster.nodes | a:7000,b:7001                         | spring.data.redis.cluster.nodes=a:7000,b:7001
			spring.data.redis.sentinel.nodes| s:26379                               | spring.data.redis.sentinel.nodes=s:26379
			""")
	void aConfiguredRedisIsUsedInstead(String property, String value, String logged, CapturedOutput output) {
		try (ConfigurableApplicationContext context = application(NoBeans.class).properties(property + "=" + value)
			.run()) {
			assertThat(context.getBeansOfType(EmbeddedRedisServer.class)).isEmpty();
			assertThat(context.getEnvironment().getPropertySources()
				.contains(EmbeddedRedisEnvironmentPostProcessor.PROPERTY_SOURCE_NAME)).isFalse();
			assertThat(output).contains("Using the configured Redis: " + logged).doesNotContain("secret");
		}
	}

	@Test
	void passwordsInUrlsAreNotLogged() {
		assertThat(EmbeddedRedisEnvironmentPostProcessor.withoutPassword("redis://:secret@host:6379"))
			.isEqualTo("redis://:*****@host:6379");
		assertThat(EmbeddedRedisEnvironmentPostProcessor.withoutPassword("rediss://user:p@ss:w0rd@host"))
			.isEqualTo("rediss://user:*****@host");
		assertThat(EmbeddedRedisEnvironmentPostProcessor.withoutPassword("redis://host:6379/0"))
			.isEqualTo("redis://host:6379/0");
	}

	private static SpringApplicationBuilder application(Class<?> configuration) {
		return new SpringApplicationBuilder(configuration).web(WebApplicationType.NONE)
			.properties("spring.main.banner-mode=off");
	}

	/** Sends {@code PING} in the inline protocol and answers the reply's first line. */
	private static String ping(int port) throws IOException {
		try (Socket socket = new Socket(EmbeddedRedisServer.HOST, port)) {
			socket.setSoTimeout(5000);
			OutputStream out = socket.getOutputStream();
			out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
			out.flush();
			InputStream in = socket.getInputStream();
			StringBuilder reply = new StringBuilder();
			for (int next = in.read(); next != -1 && next != '\r'; next = in.read()) {
				reply.append((char) next);
			}
			return reply.toString();
		}
	}

	@Configuration(proxyBeanMethods = false)
	static class NoBeans {

	}

	@Configuration(proxyBeanMethods = false)
	static class FailingBean {

		static volatile int redisPort;

		@Bean
		Object failing(Environment environment) {
			redisPort = environment.getRequiredProperty("spring.data.redis.port", Integer.class);
			throw new IllegalStateException("Failing on purpose");
		}

	}

}
