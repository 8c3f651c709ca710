"""aga.prompts"""
