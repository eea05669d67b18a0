namespace Keyturn.Protocol.Tests;
