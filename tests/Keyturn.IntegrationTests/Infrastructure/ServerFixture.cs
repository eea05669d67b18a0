namespace Keyturn.IntegrationTests.Infrastructure;

/// <summary>One shared server for the tests of a collection: embedded, or a two-node PostgreSQL cluster behind a proxy (<see cref="KeyturnCluster.ModeVariable"/>).</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public KeyturnProcess Server { get; private set; } = null!;

    public AwsCli Cli { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await TestServers.StartAsync();
        Cli = new AwsCli(Server);
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "keyturn server";
}
