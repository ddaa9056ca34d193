"""Getting paid: checkout links and Stripe events."""
