"""Institution onboarding (M4, Z1): application, security assessment, activation, suspension."""
