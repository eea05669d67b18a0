namespace Keyturn.Protocol;
