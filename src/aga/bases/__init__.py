"""aga.bases"""
