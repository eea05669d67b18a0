namespace Keyturn.Application;
