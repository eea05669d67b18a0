using System.Text.Json.Serialization;

namespace Keyturn.Storage.Sqlite;

/// <summary>What SQLite's queries pass as JSON: a list of ARNs for <c>json_each</c>.</summary>
[JsonSerializable(typeof(string[]))]
internal sealed partial class SqliteJsonContext : JsonSerializerContext;
