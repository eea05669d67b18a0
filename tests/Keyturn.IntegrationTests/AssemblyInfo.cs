namespace Keyturn.IntegrationTests;
