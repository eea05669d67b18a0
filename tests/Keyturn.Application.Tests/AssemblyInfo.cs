namespace Keyturn.Application.Tests;
