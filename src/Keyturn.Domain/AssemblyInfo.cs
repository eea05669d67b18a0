namespace Keyturn.Domain;
