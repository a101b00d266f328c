DROP TABLE jobs;
DROP TABLE uploads;
DROP TABLE users;
