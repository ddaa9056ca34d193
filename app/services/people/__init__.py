"""Clients, sitters, pets, care notes, phone numbers and how people are named."""
