package io.tagcache.sample;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * Records every SQL statement the application executes, by wrapping its {@link DataSource}: a request
 * that executed none was answered from the cache. This is what the tests count to tell a reload from a
 * hit, never time.
 *
 * <p>A bean post-processor: {@code @Import} it, then {@code @Autowired} it.
 */
public final class SqlStatementLog implements BeanPostProcessor {

	private final Queue<String> executed = new ConcurrentLinkedQueue<>();

	/**
	 * The statements executed since the previous call, oldest first; forgets them.
	 * @return the SQL of each statement
	 */
	public List<String> drain() {
		List<String> statements = new ArrayList<>();
		for (String sql = this.executed.poll(); sql != null; sql = this.executed.poll()) {
			statements.add(sql);
		}
		return statements;
	}

	@Override
	public Object postProcessAfterInitialization(Object bean, String beanName) {
		if (bean instanceof DataSource dataSource && !(bean instanceof CountingDataSource)) {
			return new CountingDataSource(dataSource);
		}
		return bean;
	}

	private final class CountingDataSource extends DelegatingDataSource {

		CountingDataSource(DataSource target) {
			super(target);
		}

		@Override
		public Connection getConnection() throws SQLException {
			return recording(super.getConnection());
		}

		@Override
		public Connection getConnection(String username, String password) throws SQLException {
			return recording(super.getConnection(username, password));
		}

	}

	/** A connection whose statements record what they execute. */
	private Connection recording(Connection connection) {
		return proxy(Connection.class, (proxy, method, args) -> {
			Object result = call(connection, method, args);
			if (result instanceof Statement statement) {
				String preparedSql = (args != null && args.length > 0 && args[0] instanceof String sql) ? sql : null;
				return recording(statement, preparedSql);
			}
			return result;
		});
	}

	private Statement recording(Statement statement, @Nullable String preparedSql) {
		Class<? extends Statement> type = (statement instanceof CallableStatement) ? CallableStatement.class
				: (statement instanceof PreparedStatement) ? PreparedStatement.class : Statement.class;
		return proxy(type, (proxy, method, args) -> {
			if (method.getName().startsWith("execute")) {
				String sql = (args != null && args.length > 0 && args[0] instanceof String text) ? text : preparedSql;
				this.executed.add(String.valueOf(sql).strip().replaceAll("\\s+", " "));
			}
			return call(statement, method, args);
		});
	}

	private static <T> T proxy(Class<T> type, InvocationHandler handler) {
		return type.cast(Proxy.newProxyInstance(SqlStatementLog.class.getClassLoader(), new Class<?>[] { type },
				handler));
	}

	private static @Nullable Object call(Object target, Method method, Object @Nullable [] args) throws Throwable {
		try {
			return method.invoke(target, args);
		}
		catch (InvocationTargetException ex) {
			throw ex.getTargetException();
		}
	}

}
