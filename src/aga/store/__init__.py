"""aga.store"""
