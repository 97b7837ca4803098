/// Small embedded lists of French names and streets for the synthetic directory.
enum NameLists {
    static let femaleGivenNames = [
        "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Martine", "Christine", "Sophie", "Valérie", "Sandrine",
        "Stéphanie", "Céline", "Véronique", "Anne", "Julie", "Laurence", "Aurélie", "Émilie", "Caroline", "Camille",
        "Claire", "Hélène", "Élodie", "Virginie", "Léa", "Manon", "Chloé", "Sarah", "Pauline", "Marion",
        "Laure", "Agnès", "Juliette", "Inès", "Mathilde", "Charlotte", "Anaïs", "Lucie", "Amélie", "Audrey",
        "Florence", "Delphine", "Karine", "Françoise", "Béatrice", "Nadia", "Fatima", "Yasmine", "Alice", "Margaux",
    ]

    static let maleGivenNames = [
        "Jean", "Philippe", "Michel", "Alain", "Patrick", "Nicolas", "Christophe", "Pierre", "Christian", "Éric",
        "Frédéric", "Laurent", "Stéphane", "David", "Olivier", "Julien", "Sébastien", "Thomas", "François", "Daniel",
        "Pascal", "Vincent", "Jérôme", "Bruno", "Guillaume", "Antoine", "Maxime", "Alexandre", "Romain", "Hugo",
        "Mathieu", "Benoît", "Yves", "Thierry", "Didier", "Arnaud", "Cédric", "Damien", "Lucas", "Louis",
        "Gilles", "Emmanuel", "Fabrice", "Karim", "Mehdi", "Youssef", "Bertrand", "Hervé", "Xavier", "Rémi",
    ]

    static let familyNames = [
        "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU", "LAURENT",
        "SIMON", "MICHEL", "LEFEBVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL", "FOURNIER", "GIRARD",
        "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT", "MULLER", "LEFÈVRE", "FAURE", "ANDRÉ",
        "MERCIER", "BLANC", "GUÉRIN", "BOYER", "GARNIER", "CHEVALIER", "FRANÇOIS", "LEGRAND", "GAUTHIER", "GARCIA",
        "PERRIN", "ROBIN", "CLÉMENT", "MORIN", "NICOLAS", "HENRY", "ROUSSEL", "MATHIEU", "GAUTIER", "MASSON",
        "MARCHAND", "DUVAL", "DENIS", "DUMONT", "MARIE", "LEMAIRE", "NOËL", "MEYER", "DUFOUR", "MEUNIER",
        "BRUN", "BLANCHARD", "GIRAUD", "JOLY", "RIVIÈRE", "LUCAS", "BRUNET", "GAILLARD", "BARBIER", "ARNAUD",
        "MARTINEZ", "GÉRARD", "ROCHE", "RENARD", "SCHMITT", "ROY", "LEROUX", "COLIN", "VIDAL", "CARON",
        "PICARD", "ROGER", "FABRE", "AUBERT", "LEMOINE", "RENAUD", "DUMAS", "LACROIX", "OLIVIER", "PHILIPPE",
        "BOURGEOIS", "PIERRE", "BENOÎT", "REY", "LECLERC", "PAYET", "ROLLAND", "LECLERCQ", "GUILLAUME", "LECOMTE",
        "LOPEZ", "JEAN", "DUPUY", "GUILLOT", "HUBERT", "BERGER", "CARPENTIER", "SANCHEZ", "DUPUIS", "MOULIN",
        "LOUIS", "DESCHAMPS", "HUET", "VASSEUR", "PEREZ", "BOUCHER", "FLEURY", "ROYER", "KLEIN", "JACQUET",
        "ADAM", "PARIS", "POIRIER", "MARTY", "AUBRY", "GUYOT", "CARRÉ", "CHARLES", "RENAULT", "CHARPENTIER",
        "MÉNARD", "MAILLARD", "BARON", "BERTIN", "BAILLY", "HERVÉ", "SCHNEIDER", "FERNANDEZ", "LE GALL", "COLLET",
        "LÉGER", "BOUVIER", "JULIEN", "PRÉVOST", "MILLET", "PERROT", "DANIEL", "LE ROUX", "COUSIN", "GERMAIN",
        "BRETON", "BESSON", "LANGLOIS", "RÉMY", "LE GOFF", "PELLETIER", "LÉVÊQUE", "PERRIER", "LEBLANC", "BARRÉ",
        "BENALI", "HADDAD", "NGUYEN", "TRAN", "DIALLO", "BENSAÏD", "OUALI", "KONÉ", "CISSÉ", "MENDES",
    ]

    /// (RPPS street-type code, label, weight).
    static let streetTypes: [(code: String, label: String, weight: Double)] = [
        ("R", "Rue", 55), ("AV", "Avenue", 15), ("BD", "Boulevard", 7), ("PL", "Place", 6), ("CHE", "Chemin", 5),
        ("ALL", "Allée", 4), ("IMP", "Impasse", 3), ("RTE", "Route", 3), ("QUAI", "Quai", 2),
    ]

    static let streetNames = [
        "de la République", "Victor Hugo", "Jean Jaurès", "du Général de Gaulle", "Pasteur", "de la Gare",
        "des Écoles", "de l'Église", "Gambetta", "Jules Ferry", "du Moulin", "des Lilas", "Voltaire", "de la Mairie",
        "du Stade", "Émile Zola", "de Verdun", "du 8 Mai 1945", "de la Liberté", "Carnot", "du Maréchal Foch",
        "Georges Clemenceau", "de la Paix", "des Tilleuls", "du Château", "Anatole France", "Saint-Martin", "de Paris",
        "Nationale", "des Peupliers", "Louis Pasteur", "de la Fontaine", "des Acacias", "du Commerce", "Aristide Briand",
        "Jean Moulin", "de Lattre de Tassigny", "du Port", "des Vignes", "de la Poste", "Paul Bert", "Marcel Pagnol",
        "des Jardins", "de l'Hôpital", "Condorcet", "du Marché", "des Prés", "Sadi Carnot", "Pierre Curie",
        "de la Croix Rousse",
    ]

    /// Fictitious booking-software vendors, with their market weight.
    static let vendors: [(id: String, name: String, weight: Double)] = [
        ("agendaplus", "AgendaPlus Santé", 40), ("rdvmed", "RdvMed", 20), ("medicalendar", "MédiCalendar", 15),
        ("planisoins", "PlaniSoins", 12), ("cabinetpro", "CabinetPro Agenda", 8), ("docslot", "DocSlot", 5),
    ]
}
