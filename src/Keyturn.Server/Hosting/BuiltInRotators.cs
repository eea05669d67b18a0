using Keyturn.Application.Rotation;
using Keyturn.Rotators.MySql;
using Keyturn.Rotators.PostgreSql;

namespace Keyturn.Server.Hosting;

/// <summary>
/// The database rotators Keyturn ships, registered once: the built-in rotation functions and <c>keyturn doctor</c>
/// both pick a secret's rotator from this registry by its <c>engine</c>.
/// </summary>
public static class BuiltInRotators
{
    public static DatabaseRotators Create() => new([PostgreSqlRotator.Create(), MySqlRotator.Create()]);
}
