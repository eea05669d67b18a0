namespace Keyturn.Domain.Tests;
