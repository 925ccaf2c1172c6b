-- Run at start-up by Spring Boot (spring.sql.init), before data.sql. Re-runnable: tests reset with it.
DROP TABLE IF EXISTS users;
DROP TABLE IF EXISTS locations;

CREATE TABLE locations (
	id BIGINT PRIMARY KEY,
	name VARCHAR(100) NOT NULL
);

CREATE TABLE users (
	id BIGINT PRIMARY KEY,
	mail VARCHAR(254) NOT NULL,
	-- Mail addresses are compared case-insensitively: FoO@a is foo@a.
	mail_key VARCHAR(254) GENERATED ALWAYS AS (LOWER(mail)),
	location_id BIGINT NOT NULL REFERENCES locations (id)
);
CREATE UNIQUE INDEX users_mail_key ON users (mail_key);
CREATE INDEX users_location ON users (location_id);
