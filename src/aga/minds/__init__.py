"""aga.minds"""
