namespace Keyturn.Storage.Sqlite;
