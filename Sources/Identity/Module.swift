/// Identity: local accounts (Argon2id passwords, lock-out, resets), roles, sessions and CSRF, and the Pro Santé
/// Connect OpenID Connect client.
public enum IdentityModule {}
