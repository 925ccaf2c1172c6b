INSERT INTO locations (id, name) VALUES (1, 'Rome'), (2, 'Milan'), (3, 'Turin');

INSERT INTO users (id, mail, location_id) VALUES
	(1, 'foo@a', 1),
	(2, 'bar@a', 1),
	(3, 'baz@b', 2),
	(4, 'qux@c', 3);
