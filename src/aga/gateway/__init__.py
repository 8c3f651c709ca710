"""aga.gateway"""
