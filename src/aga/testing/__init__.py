"""aga.testing"""
