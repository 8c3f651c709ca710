"""aga.viewer"""
