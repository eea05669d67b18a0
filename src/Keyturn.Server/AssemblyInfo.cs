namespace Keyturn.Server;
