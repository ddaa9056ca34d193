"""Photos: who may see them, inbound MMS, outbound photos, processing."""
