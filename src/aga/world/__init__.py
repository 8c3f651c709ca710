"""aga.world"""
